/**
 * `trident replay` against the real broker: a range produced here (texts, one undecodable message,
 * feedback labels) replayed through two model versions gives, per event, exactly what
 * `trident predict` gives on the same texts; the report scores the feedback labels, counts the bad
 * message by its dead-letter code, and says what was skipped.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafka, defaultPartitioner } from '../../common/kafka';
import { EventCodec } from '../../schemas/codec';
import { replay } from '../../consumers/replay/replay';
import type { Report } from '../../model/evaluation/run';
import { cli, createTestTopics, repoRoot, runCli, testConfig } from './harness';

const A = join(repoRoot, 'model', 'test-artifact');
const B = join(repoRoot, 'model', 'artifacts', 'trident-multitask-1.1.0');

interface Labeled {
  id: string;
  text?: string;
  task: string;
  label?: string;
  head?: string;
  entities?: unknown[];
  answer?: { question: string; start?: number; end?: number; text?: string };
}

describe('trident replay (real broker and registry)', () => {
  const { config, env } = testConfig('replay');
  const dir = mkdtempSync(join(tmpdir(), 'trident-replay-'));
  const labeled = readFileSync(join(repoRoot, 'model', 'evaluation', 'fixtures', 'labeled.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Labeled);
  const texts = new Map<string, { id: string; text: string; questions: string[] }>();
  for (const l of labeled) {
    const t = texts.get(l.id) ?? { id: l.id, text: l.text!, questions: [] };
    if (l.answer && !t.questions.includes(l.answer.question)) t.questions.push(l.answer.question);
    texts.set(l.id, t);
  }
  // Texts without labels too: agreement and drift use every event.
  for (let i = 0; i < 12; i++)
    texts.set(`u${i}`, {
      id: `u${i}`,
      text: `Unlabeled text number ${i}: the service in Madrid was ${i % 2 ? 'slow' : 'great'}.`,
      questions: [],
    });

  beforeAll(async () => {
    await createTestTopics(config);
    const inputs = join(dir, 'texts.jsonl');
    writeFileSync(
      inputs,
      [...texts.values()]
        .map((t) => JSON.stringify({ id: t.id, text: t.text, ...(t.questions.length ? { questions: t.questions } : {}) }))
        .join('\n') + '\n',
    );
    const produced = await runCli(['produce', '--file', inputs, '--no-progress'], env);
    expect(produced.code).toBe(0);
    // One message that is not Avro: counted by its dead-letter code, never fatal.
    const producer = createKafka(config, 'replay-test').producer({ createPartitioner: defaultPartitioner });
    await producer.connect();
    await producer.send({ topic: config.topics.text, messages: [{ key: 'junk', value: Buffer.from('not avro at all') }] });
    await producer.disconnect();
    // Feedback labels (feedback events need the text, a head for categories and spans for answers).
    const feedback = join(dir, 'feedback.jsonl');
    const lines = labeled
      .filter((l) => !(l.answer && l.answer.text))
      .map((l) => ({ ...l, text: texts.get(l.id)!.text, ...(l.task === 'categories' ? { head: 'banking77' } : {}) }));
    lines.push({ id: 'ghost', text: 'A label for a text that was never sent.', task: 'sentiment', label: 'positive' });
    writeFileSync(feedback, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const fed = await runCli(['produce', '--feedback', '--file', feedback, '--no-progress'], env);
    expect(fed.code).toBe(0);
    writeFileSync(join(dir, 'predict-in.jsonl'), readFileSync(inputs));
  });

  it('gives per event the same outputs as trident predict, for both versions, and scores the feedback labels', async () => {
    const out = join(dir, 'report');
    const replayed = await runCli(['replay', '--models', `${A},${B}`, '--labels', 'feedback', '--out', out], env);
    expect(replayed.stderr).toMatch(/replay: report in/);
    expect(replayed.code).toBe(0);
    const predictions = readFileSync(join(out, 'predictions.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; model: string; output: { id: string } });
    expect(predictions).toHaveLength(2 * texts.size);
    for (const [artifact, key] of [
      [A, '0.0.1'],
      [B, '1.1.0'],
    ] as const) {
      const file = join(dir, `predict-${key}.jsonl`);
      const predicted = await runCli(['predict', '--file', join(dir, 'predict-in.jsonl'), '--out', file, '--model', artifact], env);
      expect(predicted.code).toBe(0);
      const expected = new Map(
        readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .map((l) => [JSON.parse(l).id as string, JSON.parse(l) as unknown]),
      );
      const got = new Map(predictions.filter((p) => p.model === key).map((p) => [p.id, p.output]));
      expect(got.size).toBe(texts.size);
      for (const [id, output] of got) expect(output).toEqual(expected.get(id));
    }

    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
    expect(report.partial).toBe(false);
    expect(report.skipped).toEqual({ total: 1, by_code: { NOT_AVRO: 1 } });
    expect(report.events).toEqual({ read: texts.size + 1, evaluated: texts.size, labeled: 13 });
    expect(report.labels).toMatchObject({ source: config.topics.feedback, without_event: 1, ids_without_event_sample: ['ghost'] });
    for (const key of ['0.0.1', '1.1.0']) {
      expect(Object.keys(report.models[key]).sort()).toEqual(['answers', 'categories', 'entities', 'sentiment']);
      expect(report.models[key].sentiment).toMatchObject({ n: 5 });
    }
    // The same labels scored by `trident eval` from the file give the same numbers for 1.1.0's sentiment.
    expect(Object.keys(report.ab!).sort()).toEqual(['answers', 'categories', 'entities', 'sentiment']);
    expect(report.ab!.sentiment.ci95[0]).toBeLessThanOrEqual(report.ab!.sentiment.delta);
    expect(report.disagreements.length).toBeGreaterThan(0);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('Trident evaluation — 0.0.1 vs 1.1.0');
  });

  it('honours --max and --partitions, and reports labels from a file', async () => {
    const labels = join(dir, 'labels.jsonl');
    writeFileSync(labels, labeled.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const out = join(dir, 'max');
    const shadow = `${config.topics.text}-shadow`;
    const r = await runCli(
      ['replay', '--models', A, '--max', '4', '--partitions', '0', '--labels', labels, '--out', out, '--to-topic', shadow],
      env,
    );
    expect(r.code).toBe(0);
    // Results went to the shadow topics, none to the production result topics.
    const tailed = await runCli(['tail', `${shadow}.sentiment`, '--from-beginning', '--timeout', '60'], {
      ...env,
      TRIDENT_TOPICS_SENTIMENT: `${shadow}.sentiment`,
    });
    expect(tailed.stdout.trim().split('\n')).toHaveLength(4);
    const production = await runCli(['tail', 'sentiment', '--from-beginning', '--timeout', '20'], env);
    expect(production.stdout.trim()).toBe('');
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
    expect(report.events.read).toBe(4);
    expect(Object.keys(report.range.partitions as object)).toEqual(['0']);
    expect(report.ab).toBeNull();
  });

  it('stops with a partial report that says so', async () => {
    let chunks = 0;
    const report = await replay(createKafka(config, 'replay-partial'), EventCodec.fromConfig(config), config, {
      models: [A],
      out: join(dir, 'partial'),
      chunkSize: 3,
      onProgress: () => chunks++,
      interrupted: () => (chunks >= 1 ? 'interrupted (SIGINT)' : null),
    });
    expect(report.partial).toBe(true);
    expect(report.partial_reason).toMatch(/^interrupted \(SIGINT\) after \d+ of \d+ events$/);
    expect(report.events.read).toBeLessThan(texts.size + 1);
    expect(readFileSync(join(dir, 'partial', 'report.html'), 'utf8')).toContain('Partial report');
  });

  it('Ctrl-C on the CLI writes a partial report and exits 130', async () => {
    const big = testConfig('replay-sigint');
    await createTestTopics(big.config);
    const file = join(dir, 'many.jsonl');
    writeFileSync(
      file,
      Array.from({ length: 600 }, (_, i) =>
        JSON.stringify({
          id: `m${i}`,
          text: `Review ${i}: the plot of this film about Lisbon and its harbour was ${i % 2 ? 'dull' : 'moving'}.`,
          questions: ['Where is it set?'],
        }),
      ).join('\n') + '\n',
    );
    expect((await runCli(['produce', '--file', file, '--no-progress'], big.env)).code).toBe(0);
    const out = join(dir, 'sigint');
    const child = spawn(process.execPath, [cli, 'replay', '--models', B, '--out', out], {
      env: { ...process.env, ...big.env, TRIDENT_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Interrupt once the replay has begun (its predictions file exists before the first chunk runs),
    // so the first of its three chunks is in flight: a fixed delay races a fast machine to the end.
    const begun = setInterval(() => {
      if (existsSync(join(out, 'predictions.jsonl'))) {
        clearInterval(begun);
        child.kill('SIGINT');
      }
    }, 20);
    child.on('close', () => clearInterval(begun));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toMatch(/SIGINT — finishing the current chunk and writing a partial report/);
    expect(code).toBe(130);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
    expect(report.partial).toBe(true);
    expect(report.partial_reason).toMatch(/^interrupted \(SIGINT\) after \d+ of 600 events$/);
    expect(report.events.read).toBeLessThan(600);
    expect(readFileSync(join(out, 'predictions.jsonl'), 'utf8').trim().split('\n').filter(Boolean).length).toBe(report.events.evaluated);
  });

  it('fails clearly on an empty range, a bad bound and an unknown version', async () => {
    const empty = await runCli(['replay', '--models', A, '--to', '2000-01-01T00:00:00Z', '--out', join(dir, 'x')], env);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/REPLAY_EMPTY_RANGE|nothing to replay in .*: the range holds no messages/);
    const past = await runCli(['replay', '--models', A, '--from', '0:999999', '--out', join(dir, 'x')], env);
    expect(past.stderr).toMatch(/past the end of the partition/);
    const bad = await runCli(['replay', '--models', A, '--from', 'yesterday', '--out', join(dir, 'x')], env);
    expect(bad.stderr).toMatch(/--from "yesterday": expected an ISO timestamp/);
    const unknown = await runCli(['replay', '--models', '9.9.9', '--out', join(dir, 'x')], env);
    expect(unknown.code).toBe(1);
    // Not a folder, so a registry version: the registry on the models topic does not know it.
    expect(unknown.stderr).toMatch(/unknown model version 9\.9\.9/);
  });
});
