import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestTopics, runCli, testConfig } from './harness';

describe('trident produce → trident tail (real broker and registry)', () => {
  it('10,000 events from a file come back: same count, same ids, nothing extra', async () => {
    const { config, env } = testConfig('produce-tail');
    await createTestTopics(config);
    const dir = mkdtempSync(join(tmpdir(), 'trident-it-'));
    const file = join(dir, 'events.jsonl');
    const ids = Array.from({ length: 10_000 }, (_, i) => `evt-${i}`);
    writeFileSync(
      file,
      ids
        .map((id, i) =>
          JSON.stringify({
            id,
            text: `Event number ${i} from Lisboa, São Paulo and 東京 🚀`,
            tasks: i % 2 ? ['sentiment'] : ['entities', 'answers'],
            questions: i % 2 ? [] : ['Where?'],
          }),
        )
        .join('\n') + '\n',
    );

    const produced = await runCli(['produce', '--file', file, '--no-progress'], env);
    expect(produced.stderr).toMatch(/sent 10000, rejected 0/);
    expect(produced.code).toBe(0);

    const tailed = await runCli(['tail', 'text', '--from-beginning', '--timeout', '120'], env);
    expect(tailed.code).toBe(0);
    const events = tailed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; text: string; tasks: string[] });
    expect(events).toHaveLength(10_000);
    expect(new Set(events.map((e) => e.id))).toEqual(new Set(ids));
    const sample = events.find((e) => e.id === 'evt-42')!;
    expect(sample.text).toBe('Event number 42 from Lisboa, São Paulo and 東京 🚀');
    expect(sample.tasks).toEqual(['entities', 'answers']);
  });

  it('rejects bad lines with their line number and reason, sends the valid ones, exits non-zero', async () => {
    const { config, env } = testConfig('produce-bad');
    await createTestTopics(config);
    const dir = mkdtempSync(join(tmpdir(), 'trident-it-'));
    const file = join(dir, 'mixed.jsonl');
    const lines = [
      Buffer.from(JSON.stringify({ id: 'good-1', text: 'fine' }) + '\n'),
      Buffer.from('{"id": "bad-json", "text": \n'),
      Buffer.from(JSON.stringify({ id: 'no-text' }) + '\n'),
      Buffer.from(JSON.stringify({ id: 'empty', text: '' }) + '\n'),
      Buffer.concat([Buffer.from('{"id":"bad-utf8","text":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]),
      Buffer.from(JSON.stringify({ id: 'too-big', text: 'x'.repeat(1_000_001) }) + '\n'),
      Buffer.from(JSON.stringify({ id: 'bad-task', text: 'fine', tasks: ['translate'] }) + '\n'),
      Buffer.from(JSON.stringify({ id: 'good-2', text: 'also fine' }) + '\n'),
    ];
    writeFileSync(file, Buffer.concat(lines));

    const produced = await runCli(['produce', '--file', file, '--no-progress'], env);
    expect(produced.code).not.toBe(0);
    expect(produced.stderr).toMatch(/line 2: MALFORMED_JSON: not valid JSON/);
    expect(produced.stderr).toMatch(/line 3: TEXT_MISSING: missing "text"/);
    expect(produced.stderr).toMatch(/line 4: TEXT_EMPTY: text is empty/);
    expect(produced.stderr).toMatch(/line 5: INVALID_UTF8: line is not valid UTF-8/);
    expect(produced.stderr).toMatch(/line 6: TEXT_TOO_LARGE: text is 1000001 bytes; the limit is 1000000/);
    expect(produced.stderr).toMatch(/line 7: TASK_UNKNOWN: unknown task "translate"/);
    expect(produced.stderr).toMatch(/sent 2, rejected 6/);

    const tailed = await runCli(['tail', 'text', '--from-beginning', '--timeout', '60'], env);
    const ids = tailed.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids.sort()).toEqual(['good-1', 'good-2']);
  });

  it('sends one text from the command line with tasks and questions, and stdin JSON lines', async () => {
    const { config, env } = testConfig('produce-arg');
    await createTestTopics(config);
    const one = await runCli(
      ['produce', 'Ada Lovelace lived in London.', '--tasks', 'answers,entities', '--question', 'Where did Ada live?', '--key', 'k1'],
      env,
    );
    expect(one.code).toBe(0);
    const id = one.stdout.trim();
    const stdin = await runCli(['produce', '--file', '-'], env, '{"id":"s1","text":"from stdin"}\n');
    expect(stdin.code).toBe(0);
    const tailed = await runCli(['tail', 'text', '--from-beginning', '--timeout', '60'], env);
    const events = tailed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id,
          text: 'Ada Lovelace lived in London.',
          tasks: ['answers', 'entities'],
          questions: ['Where did Ada live?'],
          key: 'k1',
        }),
        expect.objectContaining({ id: 's1', text: 'from stdin', tasks: null }),
      ]),
    );
  });
});
