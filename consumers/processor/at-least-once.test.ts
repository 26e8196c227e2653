import { AtLeastOnceOutput, DeliveryFailedError } from './at-least-once';
import type { TopicMessages } from './transactions';

const lease = { topic: 'trident.text', partition: 2 };
const output: TopicMessages[] = [
  { topic: 'trident.sentiment', messages: [{ key: 'e1', value: 'r1' }] },
  { topic: 'trident.dlq', messages: [{ key: 'e2', value: 'd2' }] },
  { topic: 'ids', messages: [{ key: 'e1', value: 'seen' }] },
];

function recorder(fail: { send?: (records: TopicMessages[]) => boolean; commit?: boolean } = {}) {
  const steps: string[] = [];
  const out = new AtLeastOnceOutput(
    async (records) => {
      await new Promise((r) => setImmediate(r)); // the ack comes later
      if (fail.send?.(records)) throw new Error('broker gone');
      steps.push(`ack ${records.map((r) => r.topic).join('+')}`);
    },
    async (topic, partition, offset) => {
      if (fail.commit) throw new Error('rebalance in progress');
      steps.push(`commit ${topic}[${partition}]@${offset}`);
    },
    'ids',
  );
  return { out, steps };
}

describe('AtLeastOnceOutput', () => {
  it('commits the input offset only after the results, dead letters and then the processed ids were acknowledged', async () => {
    const { out, steps } = recorder();
    await out.commit(lease, output, '41');
    expect(steps).toEqual(['ack trident.sentiment+trident.dlq', 'ack ids', 'commit trident.text[2]@41']);
  });

  it('a failed produce commits nothing: no processed ids, no offset (the batch is read again)', async () => {
    const { out, steps } = recorder({ send: (records) => records.some((r) => r.topic === 'trident.sentiment') });
    const error = await out.commit(lease, output, '41').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryFailedError);
    expect(error).toMatchObject({ code: 'DELIVERY_FAILED', step: 'produce', topic: 'trident.text', partition: 2 });
    expect(steps).toEqual([]);
  });

  it('a failed changelog write leaves the offset uncommitted', async () => {
    const { out, steps } = recorder({ send: (records) => records.some((r) => r.topic === 'ids') });
    await expect(out.commit(lease, output, '41')).rejects.toMatchObject({ step: 'changelog' });
    expect(steps).toEqual(['ack trident.sentiment+trident.dlq']);
  });

  it('a failed offset commit is reported as such (results already written: a redelivery repeats them)', async () => {
    const { out, steps } = recorder({ commit: true });
    await expect(out.commit(lease, output, '41')).rejects.toMatchObject({ step: 'commit offsets' });
    expect(steps).toEqual(['ack trident.sentiment+trident.dlq', 'ack ids']);
  });

  it('hands out plain leases that never need a group-offset re-read', async () => {
    expect(await recorder().out.open('t', 0)).toEqual({ producer: { topic: 't', partition: 0 }, fresh: false });
  });
});
