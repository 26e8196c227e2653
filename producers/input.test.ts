import { Readable } from 'node:stream';
import { readCsv, readJsonLines, type InputItem } from './input';

async function collect(gen: AsyncGenerator<InputItem>): Promise<InputItem[]> {
  const out: InputItem[] = [];
  for await (const item of gen) out.push(item);
  return out;
}

describe('readJsonLines', () => {
  it('numbers lines, skips blank ones, and reports bad JSON and bad UTF-8 on their line', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"text":"one"}\n\n{"text": broken}\r\n'),
      Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]), // {"t":"\xff\xfe"}
      Buffer.from('{"text":"last, no newline"}'),
    ]);
    // Split inside a line to prove lines survive chunk boundaries.
    const items = await collect(readJsonLines(Readable.from([bytes.subarray(0, 7), bytes.subarray(7)])));
    expect(items).toEqual([
      { line: 1, raw: { text: 'one' } },
      { line: 3, code: 'MALFORMED_JSON', reason: expect.stringMatching(/not valid JSON/) },
      { line: 4, code: 'INVALID_UTF8', reason: 'line is not valid UTF-8' },
      { line: 5, raw: { text: 'last, no newline' } },
    ]);
  });
});

describe('readCsv', () => {
  it('maps a header row to fields and keeps line numbers', async () => {
    const csv = 'id,text,tasks,questions\nc1,"Hello, Lisbon",sentiment|entities,\nc2,"multi\nline",answers,Who?|Where?\n';
    const items = await collect(readCsv(Readable.from([Buffer.from(csv)])));
    expect(items).toEqual([
      { line: 2, raw: { id: 'c1', text: 'Hello, Lisbon', tasks: 'sentiment|entities' } },
      { line: 4, raw: { id: 'c2', text: 'multi\nline', tasks: 'answers', questions: 'Who?|Where?' } },
    ]);
  });

  it('reports a structural error instead of throwing', async () => {
    const items = await collect(readCsv(Readable.from([Buffer.from('id,text\na,"unclosed\n')])));
    expect(items[items.length - 1]).toMatchObject({ code: 'MALFORMED_CSV' });
  });
});
