import { headerBytes } from './validate-event';

describe('headerBytes', () => {
  it('adds keys and values of every header', () => {
    expect(headerBytes({ a: Buffer.from('xyz'), bb: ['1', Buffer.from('22')], c: undefined })).toBe(1 + 3 + 2 + 1 + 2 + 1);
    expect(headerBytes(undefined)).toBe(0);
  });
});
