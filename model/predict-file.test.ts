import { Pipeline } from './pipeline';
import { predictJsonLines } from './predict-file';
import { TEST_ARTIFACT } from './testing';

async function* lines(items: string[]): AsyncIterable<string> {
  yield* items;
}

describe('predictJsonLines', () => {
  let pipeline: Pipeline;
  beforeAll(async () => {
    pipeline = await Pipeline.load(TEST_ARTIFACT);
  });
  afterAll(async () => {
    await pipeline.close();
  });

  it('writes one line per input, same order and id; bad lines become error lines', async () => {
    const written: string[] = [];
    const progress: number[] = [];
    const result = await predictJsonLines(
      pipeline,
      lines([
        JSON.stringify({ id: 'a', text: 'Paris is nice.', questions: ['What is nice?'] }),
        '{not json',
        '',
        JSON.stringify({ id: 'b', text: '' }),
        JSON.stringify({ id: 'c', text: 'Berlin 😀' }),
      ]),
      (line) => void written.push(line),
      { tasks: ['sentiment', 'answers'], chunkSize: 2, onProgress: (n) => progress.push(n) },
    );
    const out = written.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out.map((o) => o.id)).toEqual(['a', 'line:2', 'b', 'c']);
    expect(Object.keys(out[0]).sort()).toEqual(['answers', 'id', 'sentiment']);
    expect(out[1]).toMatchObject({ error: { code: 'INPUT_BAD_JSON' } });
    expect(out[2]).toMatchObject({ error: { code: 'INPUT_EMPTY_TEXT' } });
    expect(out[3]).toMatchObject({ answers: [] });
    expect(result).toEqual({ lines: 4, errors: 2 });
    expect(progress).toEqual([2, 4]);
  });
});
