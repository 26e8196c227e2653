import type { Consumer } from 'kafkajs';
import pino from 'pino';
import { PartitionControl } from './partition-control';

const restarting = () => {
  throw Object.assign(new Error('Consumer group was not initialized, consumer#run must be called first'), {
    name: 'KafkaJSNonRetriableError',
  });
};

describe('PartitionControl', () => {
  it('turns a throw of kafkajs during its restart window into false instead of an unhandled rejection', async () => {
    const consumer = { seek: restarting, pause: restarting, resume: restarting } as unknown as Consumer;
    const control = new PartitionControl(() => consumer, pino({ level: 'silent' }));
    // As in the processor: called from a background promise nobody awaits with a catch.
    const background = (async () => [control.seek('t', 0, '12'), control.pause('t', [0]), control.resume('t', [0])])();
    await expect(background).resolves.toEqual([false, false, false]);
  });

  it('passes calls through while the consumer runs', () => {
    const calls: string[] = [];
    const consumer = {
      seek: (a: { offset: string }) => calls.push(`seek ${a.offset}`),
      pause: () => calls.push('pause'),
      resume: () => calls.push('resume'),
    } as unknown as Consumer;
    const control = new PartitionControl(() => consumer, pino({ level: 'silent' }));
    expect([control.seek('t', 0, '3'), control.pause('t', [0]), control.resume('t', [0])]).toEqual([true, true, true]);
    expect(calls).toEqual(['seek 3', 'pause', 'resume']);
  });
});
