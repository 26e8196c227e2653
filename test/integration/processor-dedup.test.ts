/**
 * Idempotent ingestion on the real broker: a client that sends the same events again (an HTTP
 * submit retried after a timeout, a producer resumed after a crash) gets no second result, also
 * after the processor restarted (the processed ids come back from the changelog topic).
 */
import { createTestTopics, testConfig, uniqueName } from './harness';
import { NONE_LOST_OR_DUPLICATED, countPerTask, produceEvents, startInProcess, waitFor } from './fault-harness';
import { readTopic } from './processor-harness';

describe('processor id deduplication (real broker)', () => {
  it('ids processed within processor.dedupWindow are dead-lettered as DUPLICATE_ID, across a processor restart', async () => {
    const group = uniqueName('dedup');
    const { config } = testConfig('dedup', { processor: { groupId: group, transactionalIdPrefix: group, maxBatchEvents: 8 } });
    await createTestTopics(config);
    const first = await produceEvents(config, 'dedup', 120);
    const before = await startInProcess(config);
    try {
      expect(await countPerTask(config, first)).toEqual(NONE_LOST_OR_DUPLICATED);
    } finally {
      await before.stop();
    }
    // The client retries the first 80 and sends 40 new ones; a new processor (empty memory) takes over.
    const after = await startInProcess(config);
    try {
      await produceEvents(config, 'dedup', 80);
      const more = (await produceEvents(config, 'dedup-new', 40)).concat(first);
      expect(await countPerTask(config, more)).toEqual(NONE_LOST_OR_DUPLICATED);
      const letters = await readTopic<{ errorCode: string; eventId: string; reason: string }>(config, 'dlq', 80);
      expect(letters).toHaveLength(80);
      expect(new Set(letters.map((l) => l.errorCode))).toEqual(new Set(['DUPLICATE_ID']));
      expect(letters.map((l) => l.eventId).sort()).toEqual(first.slice(0, 80).sort());
      expect(letters[0]!.reason).toMatch(/was already processed at .*within processor.dedupWindow \(24h\)/);
      await waitFor('the restore log line', () => after.logs.some((l) => l.includes('processed ids restored from the changelog')));
    } finally {
      await after.stop();
    }
  });
});
