import { chunkBySize } from './transactions';

const msg = (bytes: number) => ({ key: null, value: Buffer.alloc(bytes) });

describe('chunkBySize', () => {
  it('keeps every message, in order, in requests under the byte budget', () => {
    const output = [
      { topic: 'a', messages: [msg(300), msg(300), msg(300)] },
      { topic: 'b', messages: [msg(300)] },
    ];
    const chunks = chunkBySize(output, 800); // each message counts 300 + 64 bytes of overhead
    expect(chunks.map((c) => c.map((t) => `${t.topic}:${t.messages.length}`))).toEqual([['a:2'], ['a:1', 'b:1']]);
    expect(chunks.flat().reduce((n, t) => n + t.messages.length, 0)).toBe(4);
  });

  it('sends a message larger than the budget alone rather than dropping it', () => {
    const chunks = chunkBySize([{ topic: 'a', messages: [msg(10), msg(5000), msg(10)] }], 1000);
    expect(chunks.map((c) => c[0]!.messages.length)).toEqual([1, 1, 1]);
  });

  it('gives no request for no output', () => {
    expect(chunkBySize([], 1000)).toEqual([]);
  });
});
