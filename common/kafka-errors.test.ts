import { errorChain, isProducerFenced, isTransientKafkaError } from './kafka-errors';

/** Shaped like kafkajs's KafkaJSProtocolError (type + numeric code). */
const protocolError = (type: string, code: number) =>
  Object.assign(new Error(`broker said ${type}`), { name: 'KafkaJSProtocolError', type, code, retriable: false });

describe('isProducerFenced', () => {
  it.each([
    ['INVALID_PRODUCER_EPOCH', 47],
    ['INVALID_PRODUCER_ID_MAPPING', 49],
    ['PRODUCER_FENCED', 90],
  ])('recognises %s (code %d) alone, behind retries and inside aggregates', (type, code) => {
    const error = protocolError(type, code);
    expect(isProducerFenced(error)).toBe(true);
    const retries = Object.assign(new Error('retries exceeded'), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      cause: error,
      originalError: error,
    });
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

describe('isTransientKafkaError', () => {
  it('retries what a broker restart looks like, not records the broker refused', () => {
    const connection = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), {
      name: 'KafkaJSConnectionError',
      retriable: true,
    });
    expect(isTransientKafkaError(connection)).toBe(true);
    expect(
      isTransientKafkaError(
        Object.assign(new Error('retries exceeded'), { name: 'KafkaJSNumberOfRetriesExceeded', retriable: false, cause: connection }),
      ),
    ).toBe(true);
    expect(
      isTransientKafkaError(
        Object.assign(new Error('not leader'), { name: 'KafkaJSProtocolError', type: 'NOT_LEADER_OR_FOLLOWER', code: 6, retriable: true }),
      ),
    ).toBe(true);
    expect(
      isTransientKafkaError(
        Object.assign(new Error('retries exceeded'), {
          name: 'KafkaJSNumberOfRetriesExceeded',
          cause: protocolError('MESSAGE_TOO_LARGE', 10),
        }),
      ),
    ).toBe(false);
    expect(isTransientKafkaError(Object.assign(new Error('bad value'), { code: 'TEXT_EMPTY', retriable: false }))).toBe(false);
    expect(isTransientKafkaError(new Error('plain'))).toBe(false);
  });
});
