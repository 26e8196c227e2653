import { DeadLetterRateExceeded, DeadLetterRateGuard, deadLetter } from './dead-letters';

describe('deadLetter', () => {
  it('keeps the original bytes, where they came from, and why', () => {
    const letter = deadLetter({ topic: 't', partition: 3, offset: '99', key: Buffer.from('k'), value: Buffer.from([1, 2]), headers: { h: 'v', n: undefined } }, 'NOT_AVRO', 'bad bytes', 'decode', null, 5);
    expect(letter).toEqual({ sourceTopic: 't', sourcePartition: 3, sourceOffset: '99', key: Buffer.from('k'), value: Buffer.from([1, 2]), headers: { h: Buffer.from('v') }, eventId: null, errorCode: 'NOT_AVRO', reason: 'bad bytes', stage: 'decode', failedAt: 5 });
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
