import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { registerPredictCommand } from './cli';
import { TEST_ARTIFACT } from './testing';

async function predict(...argv: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerPredictCommand(program);
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  const errSpy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await program.parseAsync(['node', 'trident', 'predict', ...argv, '--model', TEST_ARTIFACT]);
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
});
