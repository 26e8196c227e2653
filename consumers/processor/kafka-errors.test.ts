import { errorChain, isProducerFenced } from './kafka-errors';

/** Shaped like kafkajs's KafkaJSProtocolError (type + numeric code). */
const protocolError = (type: string, code: number) => Object.assign(new Error(`broker said ${type}`), { name: 'KafkaJSProtocolError', type, code, retriable: false });

describe('isProducerFenced', () => {
  it.each([
    ['INVALID_PRODUCER_EPOCH', 47],
    ['INVALID_PRODUCER_ID_MAPPING', 49],
    ['PRODUCER_FENCED', 90],
  ])('recognises %s (code %d) alone, behind retries and inside aggregates', (type, code) => {
    const error = protocolError(type, code);
    expect(isProducerFenced(error)).toBe(true);
    const retries = Object.assign(new Error('retries exceeded'), { name: 'KafkaJSNumberOfRetriesExceeded', cause: error, originalError: error });
    expect(isProducerFenced(retries)).toBe(true);
    expect(isProducerFenced(Object.assign(new Error('aggregate'), { errors: [new Error('other'), retries] }))).toBe(true);
    expect(isProducerFenced({ code, type: undefined })).toBe(true);
  });

  it('does not guess from the message text', () => {
    expect(isProducerFenced(new Error('epoch mismatch in my own code; producer fenced?'))).toBe(false);
    expect(isProducerFenced(protocolError('CONCURRENT_TRANSACTIONS', 51))).toBe(false);
    expect(isProducerFenced(protocolError('INVALID_TXN_STATE', 48))).toBe(false);
    expect(isProducerFenced(Object.assign(new Error('connection'), { name: 'KafkaJSConnectionError', code: 'ECONNREFUSED' }))).toBe(false);
    expect(isProducerFenced(undefined)).toBe(false);
  });

  it('walks a cyclic chain without looping', () => {
    const a: Record<string, unknown> = { message: 'a' };
    a.cause = a;
    expect(errorChain(a)).toHaveLength(1);
  });
});
