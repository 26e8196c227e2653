import { BatchRetries, BatchRetriesExhaustedError } from './batch-retries';

describe('BatchRetries', () => {
  it('backs off, then stops with a coded error naming the partition and offset', () => {
    const retries = new BatchRetries(3, 100, 250);
    expect([1, 2, 3].map(() => retries.failed('in', 4, '120', new Error('too big')))).toEqual([100, 200, 250]);
    let error: unknown;
    try {
      retries.failed('in', 4, '120', new Error('too big'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BatchRetriesExhaustedError);
    expect(error).toMatchObject({ code: 'BATCH_RETRIES_EXHAUSTED', topic: 'in', partition: 4, offset: '120', attempts: 4 });
    expect((error as Error).message).toContain('in[4]@120');
  });

  it('counts per partition and offset, and forgets after a commit', () => {
    const retries = new BatchRetries(2, 10);
    retries.failed('in', 0, '5', 'x');
    retries.failed('in', 0, '5', 'x');
    retries.failed('in', 1, '5', 'x'); // another partition: its own count
    expect(retries.failed('in', 0, '9', 'x')).toBe(10); // another batch start: counts again from 1
    retries.succeeded('in', 0);
    expect(retries.failed('in', 0, '9', 'x')).toBe(10);
  });
});
