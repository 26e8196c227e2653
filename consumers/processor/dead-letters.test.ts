import { createHash } from 'node:crypto';
import { DeadLetterRateExceeded, DeadLetterRateGuard, MAX_DEAD_LETTER_BYTES, deadLetter } from './dead-letters';

describe('deadLetter', () => {
  it('keeps the original bytes, where they came from, and why', () => {
    const letter = deadLetter(
      { topic: 't', partition: 3, offset: '99', key: Buffer.from('k'), value: Buffer.from([1, 2]), headers: { h: 'v', n: undefined } },
      'NOT_AVRO',
      'bad bytes',
      'decode',
      null,
      5,
    );
    expect(letter).toEqual({
      sourceTopic: 't',
      sourcePartition: 3,
      sourceOffset: '99',
      key: Buffer.from('k'),
      value: Buffer.from([1, 2]),
      headers: { h: Buffer.from('v') },
      eventId: null,
      errorCode: 'NOT_AVRO',
      reason: 'bad bytes',
      stage: 'decode',
      failedAt: 5,
      valueBytes: null,
      valueSha256: null,
    });
  });

  it('cuts a value too large to copy whole (near message.max.bytes, plus headers) and records its length and sha256', () => {
    const value = Buffer.alloc(1_040_000, 7);
    const headers = { big: 'h'.repeat(10_000) };
    const letter = deadLetter(
      { topic: 't', partition: 0, offset: '1', key: Buffer.from('k'), value, headers },
      'NOT_AVRO',
      'bad bytes',
      'decode',
    );
    expect(letter.valueBytes).toBe(1_040_000);
    expect(letter.valueSha256).toBe(createHash('sha256').update(value).digest('hex'));
    expect(letter.value!.length + 10_000 + 1).toBeLessThanOrEqual(MAX_DEAD_LETTER_BYTES);
    expect(letter.value!.equals(value.subarray(0, letter.value!.length))).toBe(true);
    expect(letter.headers.big!.length).toBe(10_000);
  });
});

describe('DeadLetterRateGuard', () => {
  it('says nothing until its window is full, then stops past the ratio with the top codes', () => {
    const guard = new DeadLetterRateGuard(4, 0.5);
    guard.record('A');
    guard.record('A');
    guard.record('B');
    expect(() => guard.check()).not.toThrow();
    guard.record(null);
    expect(() => guard.check()).toThrow(DeadLetterRateExceeded);
    expect(() => guard.check()).toThrow(/3 of the last 4 events were dead-lettered \(more than 50 %; top codes: A ×2, B ×1\)/);
  });

  it('slides: old dead letters leave the window', () => {
    const guard = new DeadLetterRateGuard(4, 0.5);
    for (const code of ['A', 'A', 'A', null, null, null, null]) guard.record(code);
    expect(() => guard.check()).not.toThrow();
  });
});
