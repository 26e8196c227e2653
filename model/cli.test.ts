import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { registerPredictCommand } from './cli';
import { Pipeline } from './pipeline';
import { TEST_ARTIFACT, testArtifactWithQuantization } from './testing';

async function predict(...argv: string[]): Promise<string> {
  return predictOn(TEST_ARTIFACT, ...argv);
}

async function predictOn(model: string, ...argv: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerPredictCommand(program);
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  const errSpy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await program.parseAsync(['node', 'trident', 'predict', ...argv, '--model', model]);
  } finally {
    spy.mockRestore();
    errSpy.mockRestore();
  }
  return chunks.join('');
}

describe('trident predict', () => {
  it('prints the requested tasks for one text as JSON', async () => {
    const out = JSON.parse(await predict('Angela Merkel visited Paris 😀', '--tasks', 'sentiment,entities')) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['id', 'sentiment', 'entities']);
  });

  it('answers --question', async () => {
    const out = JSON.parse(await predict('Paris is in France.', '--question', 'Where is Paris?', '--question', 'What?')) as {
      answers: unknown[];
    };
    expect(out.answers).toHaveLength(2);
  });

  it('runs over a JSON-lines file, one line out per line in', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trident-predict-'));
    try {
      const input = path.join(dir, 'in.jsonl');
      const output = path.join(dir, 'out.jsonl');
      writeFileSync(input, ['{"id":"a","text":"one"}', '{"id":"b","text":""}', '{"id":"c","text":"three","questions":["?"]}'].join('\n'));
      await predict('--file', input, '--out', output, '--tasks', 'sentiment,answers');
      const lines = readFileSync(output, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { id: string; error?: unknown });
      expect(lines.map((l) => l.id)).toEqual(['a', 'b', 'c']);
      expect(lines[1].error).toMatchObject({ code: 'INPUT_EMPTY_TEXT' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects an unknown task and a missing text with typed errors', async () => {
    await expect(predict('hi', '--tasks', 'summary')).rejects.toMatchObject({ code: 'TASK_UNKNOWN' });
    await expect(predict()).rejects.toMatchObject({ code: 'CLI_USAGE' });
  });

  describe('batching', () => {
    const staticDir = testArtifactWithQuantization({ method: 'static-qdq-smoothquant', batch_independent: true });
    const saved = process.env.TRIDENT_MODEL_BATCHING;
    afterAll(() => {
      rmSync(staticDir, { recursive: true, force: true });
      if (saved === undefined) delete process.env.TRIDENT_MODEL_BATCHING;
      else process.env.TRIDENT_MODEL_BATCHING = saved;
    });

    /** The batching of the pipeline predict loaded, with TRIDENT_MODEL_BATCHING set to `env` (or unset). */
    async function batchingOf(model: string, env: string | undefined): Promise<string> {
      if (env === undefined) delete process.env.TRIDENT_MODEL_BATCHING;
      else process.env.TRIDENT_MODEL_BATCHING = env;
      const load = jest.spyOn(Pipeline, 'load');
      try {
        await predictOn(model, 'Paris is in France.', '--tasks', 'sentiment');
        return (await (load.mock.results[0].value as Promise<Pipeline>)).batching;
      } finally {
        load.mockRestore();
      }
    }

    it('honours model.batching (TRIDENT_MODEL_BATCHING) as serve does, else the artifact default', async () => {
      expect(await batchingOf(staticDir, undefined)).toBe('mixed');
      expect(await batchingOf(staticDir, 'per-input')).toBe('per-input');
      expect(await batchingOf(TEST_ARTIFACT, undefined)).toBe('per-input');
      expect(await batchingOf(TEST_ARTIFACT, 'mixed')).toBe('mixed');
    });

    it('names the key of a bad value', async () => {
      await expect(batchingOf(TEST_ARTIFACT, 'fast')).rejects.toThrow(/model\.batching.*TRIDENT_MODEL_BATCHING/);
    });
  });
});
