/**
 * The learner (`trident learn`) against the real broker: bad feedback dead-lettered with its code
 * while the good is learned; kill -9 mid-consumption loses and double-counts nothing; and the full
 * loop from feedback to a promoted candidate that predicts a new categories head.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type TridentConfig } from '../../common/config';
import { createKafka, defaultPartitioner } from '../../common/kafka';
import { stageLogger } from '../../common/logger';
import { DatasetState } from '../../consumers/learner/dataset';
import { applyChangelogRecord } from '../../consumers/learner/changelog';
import { Learner, readChangelog } from '../../consumers/learner/learner';
import { learnerModelOf, resolveProduction, trainOnce } from '../../consumers/learner/training';
import type { BuildCandidateOptions, CandidateBuild } from '../../model/learn/types';
import { ModelRegistry } from '../../model/registry/registry';
import { loadManifest } from '../../model/manifest';
import { EventCodec } from '../../schemas/codec';
import type { DeadLetter } from '../../schemas/generated/dlq';
import type { FeedbackEvent } from '../../schemas/generated/feedback';
import { cli, createTestTopics, repoRoot, runCli, testConfig, uniqueName } from './harness';
import { readTopic, testArtifact } from './processor-harness';

/** Per-test topics (the changelog too), group, model store and state folder. */
async function setup(prefix: string, extra: NodeJS.ProcessEnv = {}): Promise<{ config: TridentConfig; env: NodeJS.ProcessEnv }> {
  const root = mkdtempSync(join(tmpdir(), `trident-${prefix}-`));
  const id = uniqueName(prefix);
  const { env: base } = testConfig(prefix);
  const env: NodeJS.ProcessEnv = {
    ...base,
    TRIDENT_TOPICS_LEARN_CHANGELOG: `${id}.learn.changelog`,
    TRIDENT_LEARN_GROUP_ID: id,
    TRIDENT_LEARN_STATE_DIR: join(root, 'learn'),
    TRIDENT_LEARN_METRICS_PORT: '0',
    TRIDENT_MODELS_STORE: join(root, 'store'),
    TRIDENT_STACK_HOME: root,
    ...extra,
  };
  const config = loadConfig({ env });
  await createTestTopics(config);
  return { config, env };
}

const feedback = (change: Partial<FeedbackEvent>): FeedbackEvent => ({
  id: uniqueName('fb'),
  text: 'Maria Silva moved to Lisboa yesterday.',
  task: 'sentiment',
  head: null,
  label: 'positive',
  entities: [],
  answer: null,
  source: 'test',
  modelVersion: null,
  createdAt: Date.now(),
  ...change,
});

/** Sends feedback events (and raw values) in order to partition 0 unless keyed otherwise. */
async function send(
  config: TridentConfig,
  values: Array<FeedbackEvent | Buffer>,
  partition?: number,
  pace: { chunk: number; pauseMs: number } = { chunk: 500, pauseMs: 0 },
): Promise<void> {
  const codec = EventCodec.fromConfig(config);
  const producer = createKafka(config, 'trident-test-feedback').producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: defaultPartitioner,
  });
  await producer.connect();
  try {
    const messages = [];
    for (const v of values)
      messages.push({
        ...(partition === undefined ? {} : { partition }),
        key: Buffer.isBuffer(v) ? 'raw' : v.id,
        value: Buffer.isBuffer(v) ? v : await codec.encode('feedback', v),
      });
    for (let i = 0; i < messages.length; i += pace.chunk) {
      await producer.send({ topic: config.topics.feedback, messages: messages.slice(i, i + pace.chunk), acks: -1 });
      if (pace.pauseMs > 0) await new Promise((r) => setTimeout(r, pace.pauseMs));
    }
  } finally {
    await producer.disconnect();
  }
}

/** The dataset as the changelog holds it (what a restarted learner would rebuild). */
async function changelogState(config: TridentConfig): Promise<DatasetState> {
  const kafka = createKafka(config, 'trident-test-changelog');
  const admin = kafka.admin();
  await admin.connect();
  const state = new DatasetState();
  try {
    await readChangelog(kafka, admin, config.topics.learnChangelog, (k, v, where) => applyChangelogRecord(state, k, v, where));
  } finally {
    await admin.disconnect();
  }
  return state;
}

/** The learner group's committed offsets, summed over the feedback partitions. */
async function committedTotal(config: TridentConfig): Promise<bigint> {
  const admin = createKafka(config, 'trident-test-committed').admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId: config.learn.groupId, topics: [config.topics.feedback] });
    return (committed?.partitions ?? []).reduce((sum, p) => sum + (BigInt(p.offset) > 0n ? BigInt(p.offset) : 0n), 0n);
  } finally {
    await admin.disconnect();
  }
}

/** True once the group committed up to the end of every feedback partition. */
async function groupCaughtUp(config: TridentConfig): Promise<boolean> {
  const admin = createKafka(config, 'trident-test-lag').admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(config.topics.feedback);
    const [committed] = await admin.fetchOffsets({ groupId: config.learn.groupId, topics: [config.topics.feedback] });
    return ends.every((e) => {
      const c = committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1';
      return BigInt(e.high) === BigInt(e.low) || BigInt(c) >= BigInt(e.high);
    });
  } finally {
    await admin.disconnect();
  }
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 120_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('trident learn', () => {
  it('dead-letters each kind of bad feedback with its code and learns the good ones', async () => {
    const { config } = await setup('learn-dlq');
    const offsetsText = 'Maria Silva moved to Lisboa yesterday.';
    const bad: Array<[string, FeedbackEvent | Buffer]> = [
      ['NOT_AVRO', Buffer.from('{"text":"json, not avro"}')],
      ['TEXT_EMPTY', feedback({ text: '' })],
      ['TASK_UNKNOWN', feedback({ task: 'summary' })],
      ['LABEL_MISSING', feedback({ label: null })],
      ['LABEL_UNKNOWN', feedback({ label: 'neutral' })],
      ['HEAD_UNKNOWN', feedback({ head: 'mood' })],
      ['HEAD_MISSING', feedback({ task: 'categories', head: null, label: 'refund' })],
      ['ENTITY_SPAN_OUT_OF_RANGE', feedback({ task: 'entities', label: null, entities: [{ label: 'PER', start: 30, end: 99 }] })],
      [
        'ENTITY_SPAN_OVERLAP',
        feedback({
          task: 'entities',
          label: null,
          entities: [
            { label: 'PER', start: 0, end: 11 },
            { label: 'LOC', start: 6, end: 11 },
          ],
        }),
      ],
      ['ENTITY_SPAN_NOT_ON_TOKEN_BOUNDARY', feedback({ task: 'entities', label: null, entities: [{ label: 'PER', start: 1, end: 5 }] })],
      ['ANSWER_SPAN_OUT_OF_RANGE', feedback({ task: 'answers', label: null, answer: { question: 'Who?', start: 0, end: 500 } })],
      ['ANSWER_SPAN_EMPTY', feedback({ task: 'answers', label: null, answer: { question: 'Who?', start: 5, end: 6 } })],
      ['QUESTION_EMPTY', feedback({ task: 'answers', label: null, answer: { question: ' ', start: 0, end: 5 } })],
    ];
    const good: FeedbackEvent[] = [
      feedback({ text: 'Great service, thank you!' }),
      feedback({ task: 'categories', head: 'support', label: 'refund', text: 'I want my money back' }),
      feedback({ task: 'categories', head: 'banking77', label: 'card_arrival', text: 'When does my card come?' }),
      feedback({ task: 'entities', label: null, text: offsetsText, entities: [{ label: 'PER', start: 0, end: 11 }] }),
      feedback({ task: 'answers', label: null, text: offsetsText, answer: { question: 'Who moved?', start: 0, end: 11 } }),
    ];
    // Bad and good interleaved on one partition: the learner goes on past each bad one.
    const sequence: Array<FeedbackEvent | Buffer> = [];
    bad.forEach(([, v], i) => sequence.push(v, ...(good[i] ? [good[i]] : [])));
    await send(config, sequence, 0);

    const manifest = loadManifest(testArtifact).manifest;
    const learner = new Learner(
      createKafka(config, 'trident-test-learner'),
      EventCodec.fromConfig(config),
      config,
      learnerModelOf({ dir: testArtifact, manifest, source: 'pinned' }),
      stageLogger('learner-test').child({}, { level: 'error' }),
    );
    await learner.restore();
    const ends = await learner.endOffsets();
    await learner.start();
    try {
      await waitFor('the learner to catch up', () => learner.caughtUp(ends));
    } finally {
      await learner.stop();
    }
    // The DLQ is partitioned by the events' keys: order its records by their source offset.
    const letters = (await readTopic<DeadLetter>(config, 'dlq', bad.length, { settleMs: 500 })).sort(
      (a, b) => Number(a.sourceOffset) - Number(b.sourceOffset),
    );
    expect(letters.map((l) => l.errorCode)).toEqual(bad.map(([code]) => code));
    // Each dead letter names the offending event's place in the log.
    const offsets = sequence.map((v, i) => [v, i] as const).filter(([v]) => !good.includes(v as FeedbackEvent));
    expect(letters.map((l) => [l.sourceTopic, l.sourcePartition, l.sourceOffset])).toEqual(
      offsets.map(([, i]) => [config.topics.feedback, 0, String(i)]),
    );
    expect(learner.state.size).toBe(good.length);
    const restored = await changelogState(config);
    expect(restored.snapshot(config.topics.feedback)).toEqual(learner.state.snapshot(config.topics.feedback));
    expect(Object.keys(restored.snapshot(config.topics.feedback).heads).sort()).toEqual([
      'answers',
      'banking77',
      'entities',
      'sentiment',
      'support',
    ]);
  });

  it('kill -9 mid-consumption, restart: every example counted exactly once', async () => {
    const { config, env } = await setup('learn-kill', {
      TRIDENT_MODEL_PATH: testArtifact,
      TRIDENT_LEARN_MIN_NEW_EXAMPLES: '1000000',
      TRIDENT_LEARN_INTERVAL: '1000h',
      TRIDENT_LOG_LEVEL: 'info',
    });
    const texts = Array.from({ length: 3000 }, (_, i) => `ticket ${i}: please look at my account`);
    // Each text twice: first labelled `wrong`, later `right`. A lost or repeated batch shows in the
    // final labels, the superseded count (exactly one per text) or the change count (exactly two).
    const first = texts.map((text, i) => feedback({ id: `a${i}`, task: 'categories', head: 'support', label: 'wrong', text }));
    const second = texts.map((text, i) => feedback({ id: `b${i}`, task: 'categories', head: 'support', label: 'right', text }));
    await send(config, first);

    const start = (): { child: ChildProcess; output: () => string; exited: Promise<number | string> } => {
      const child = spawn(process.execPath, [cli, 'learn'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
      return { child, output: () => output, exited };
    };
    const one = start();
    await waitFor('the learner to consume', () => one.output().includes('trident learn: consuming'), 60_000);
    // While it consumes the second half, kill it without warning.
    // Paced (about 6 s in all), so that the kill lands while the second half is still arriving.
    const sending = send(config, second, undefined, { chunk: 100, pauseMs: 200 });
    await waitFor('some of the second half to be consumed', async () => (await committedTotal(config)) > BigInt(texts.length), 60_000);
    one.child.kill('SIGKILL');
    expect(await one.exited).toBe('SIGKILL');
    await sending;
    const atKill = await changelogState(config);
    const two = start();
    await waitFor('the restarted learner to consume', () => two.output().includes('trident learn: consuming'), 60_000);
    await waitFor('the restarted learner to catch up', () => groupCaughtUp(config), 120_000);
    two.child.kill('SIGTERM');
    const code = await two.exited;
    if (code !== 0) throw new Error(`the restarted learner exited ${code} after SIGTERM:\n${two.output().slice(-3000)}`);

    const state = await changelogState(config);
    expect(state.size).toBe(texts.length);
    expect(state.all().every((e) => e.label === 'right')).toBe(true);
    expect(state.superseded.count).toBe(texts.length);
    expect(state.changes).toBe(2 * texts.length);
    const snapshot = state.snapshot(config.topics.feedback);
    expect(snapshot.heads.support!.train + snapshot.heads.support!.heldout).toBe(texts.length);
    // The kill really was mid-consumption: the changelog then held part of the second half.
    expect(atKill.superseded.count).toBeGreaterThan(0);
    expect(atKill.superseded.count).toBeLessThan(texts.length);
    expect(await readTopic(config, 'dlq', 0, { settleMs: 300, timeoutMs: 2000 })).toHaveLength(0);
  });

  it('trains into registered -ft.N candidates, marks what it trained, and says when nothing is new (copying builder)', async () => {
    // The head trainer is not under test here: the builder copies the parent under the new version
    // (same files, so the registry's checks pass). What is tested is the learner's side of training.
    const { config } = await setup('learn-train');
    const registry = ModelRegistry.fromConfig(config, 'trident-test-learn-registry');
    const { record: parent } = await registry.register(testArtifact);
    await registry.promote({ name: parent.name, version: parent.version });
    const built: BuildCandidateOptions[] = [];
    const copyBuilder = async (options: BuildCandidateOptions): Promise<CandidateBuild> => {
      built.push(options);
      cpSync(options.parentDir, options.outDir, { recursive: true });
      const manifestFile = join(options.outDir, 'manifest.json');
      writeFileSync(manifestFile, JSON.stringify({ ...JSON.parse(readFileSync(manifestFile, 'utf8')), version: options.version }, null, 2));
      return {
        dir: options.outDir,
        name: parent.name,
        version: options.version,
        parentVersion: parent.version,
        snapshot: options.snapshot,
        heads: [],
        dev: [],
        backend: 'none (copy)',
        seconds: { features: 0, training: 0, evaluation: 0, total: 0 },
      };
    };
    const production = await resolveProduction(config, registry);
    expect(production).toMatchObject({ source: 'registry', manifest: { version: parent.version } });
    const log = stageLogger('learner-test').child({}, { level: 'error' });
    const learner = new Learner(
      createKafka(config, 'trident-test-learner'),
      EventCodec.fromConfig(config),
      config,
      learnerModelOf(production),
      log,
    );
    const consume = async () => {
      const ends = await learner.endOffsets();
      await waitFor('the learner to catch up', () => learner.caughtUp(ends));
    };
    await learner.restore();
    await learner.start();
    try {
      await send(config, [
        feedback({ text: 'lovely' }),
        feedback({ task: 'categories', head: 'support', label: 'refund', text: 'money back' }),
      ]);
      await consume();
      const first = await trainOnce({ config, registry, learner, log, buildCandidate: copyBuilder });
      expect(first).toMatchObject({
        kind: 'registered',
        record: { version: `${parent.version}-ft.1`, status: 'candidate' },
        promotion: null,
      });
      expect(built[0]!.examples).toHaveLength(2);
      expect(built[0]!.minExamplesPerLabel).toBe(config.learn.minExamplesPerLabel);
      expect(await trainOnce({ config, registry, learner, log, buildCandidate: copyBuilder })).toMatchObject({ kind: 'nothing' });

      await send(config, [feedback({ task: 'categories', head: 'support', label: 'cancel', text: 'money back' })]); // a relabel
      await consume();
      const second = await trainOnce({
        config: { ...config, learn: { ...config.learn, autoPromote: true } },
        registry,
        learner,
        log,
        buildCandidate: copyBuilder,
      });
      expect(second).toMatchObject({ kind: 'registered', record: { version: `${parent.version}-ft.2` }, promotion: { promoted: true } });
      expect((await resolveProduction(config, registry)).manifest.version).toBe(`${parent.version}-ft.2`);
    } finally {
      await learner.stop();
    }
    // A restarted learner knows from the changelog that this dataset was trained.
    const restored = await changelogState(config);
    expect(restored.lastTrained).toMatchObject({
      version: `${parent.version}-ft.2`,
      digest: restored.snapshot(config.topics.feedback).digest,
    });
    expect(restored.newSinceTraining).toBe(0);
  });

  it('feedback for a new categories head → learn --once → promote → predict', async () => {
    const production = join(repoRoot, 'model', 'artifacts', 'trident-multitask-1.1.0');
    const { env } = await setup('learn-loop');
    const cliOk = async (args: string[], input?: string) => {
      const r = await runCli(args, env, input);
      if (r.code !== 0) throw new Error(`trident ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
      return r.stdout.trim().split('\n');
    };
    await cliOk(['models', 'register', production]);
    await cliOk(['models', 'promote', 'trident-multitask@1.1.0']);

    const intents: Record<string, string[]> = {
      refund: ['I want a refund for', 'please give me my money back for', 'refund the payment of'],
      cancel_order: ['cancel my order of', 'I no longer want', 'stop the delivery of'],
      track_order: ['where is my package with', 'track the shipment of', 'when will I receive'],
      change_address: ['update my shipping address for', 'send to my new address the', 'change where you deliver'],
      reset_password: ['I forgot my password, the account with', 'reset the login for', 'cannot sign in to see'],
      invoice: ['send me the invoice for', 'I need a receipt for', 'where is the bill of'],
      damaged_item: ['it arrived broken:', 'the box was crushed and so was', 'I received a damaged'],
      wrong_item: ['you sent me the wrong', 'this is not what I ordered:', 'I got someone else’s'],
      discount: ['do you have a coupon for', 'is there a discount on', 'any promo code for'],
      opening_hours: ['when are you open to pick up', 'what time does the store open for', 'opening hours to collect'],
    };
    const things = [
      'the blue kettle',
      'two chairs',
      'a laptop bag',
      'the garden hose',
      'my headphones',
      'a winter coat',
      'the desk lamp',
      'three mugs',
    ];
    const lines: string[] = [];
    for (const [label, starts] of Object.entries(intents))
      for (let i = 0; i < 40; i++)
        lines.push(
          JSON.stringify({ task: 'categories', head: 'support', label, text: `${starts[i % 3]} ${things[i % 8]} (#${1000 + i})` }),
        );
    const file = join(mkdtempSync(join(tmpdir(), 'trident-learn-fb-')), 'feedback.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    await cliOk(['produce', '--feedback', '--file', file]);

    const out = await cliOk(['learn', '--once']);
    const version = out.at(-1)!;
    expect(version).toBe('1.1.0-ft.1');
    expect(out.join('\n')).toMatch(/head support \(categories\): new, 10 labels.*held back: \S+=\d/);
    await cliOk(['models', 'promote', `trident-multitask@${version}`]);
    const predicted = (
      await cliOk(['predict', '--model', 'production', '--tasks', 'categories', 'please give me my money back for two chairs'])
    ).join('\n');
    // The new head answers with its labels, and a text like its refund examples is a refund.
    const output = JSON.parse(predicted) as { categories: Record<string, Array<{ label: string; score: number }>> };
    expect(output.categories.support.length).toBeGreaterThan(0);
    for (const { label } of output.categories.support) expect(Object.keys(intents)).toContain(label);
    expect(output.categories.support[0].label).toBe('refund');
    // Nothing new since: the next run says so on its last line.
    expect((await cliOk(['learn', '--once'])).at(-1)).toBe('nothing to learn');
  });
});
