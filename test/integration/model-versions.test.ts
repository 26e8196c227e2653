/**
 * Model versions against the real broker: registration checks, the promotion gate, and hot swap in
 * running `trident serve` processors (two processors, promotions while events stream).
 */
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TridentConfig } from '../../common/config';
import { createKafka } from '../../common/kafka';
import { EventCodec } from '../../schemas/codec';
import type { ModelVersion } from '../../schemas/generated/models';
import { appendRecords } from '../../model/registry/log';
import { sha256File } from '../../model/manifest';
import { newestArtifact } from '../../model/artifacts';
import { createTestTopics, repoRoot, runCli, testConfig } from './harness';
import {
  countIds,
  exactlyOnce,
  processorEnv,
  readTopic,
  startServe,
  stopServe,
  testArtifact,
  type ServeProcess,
} from './processor-harness';

const TASKS = ['sentiment', 'entities', 'answers', 'categories'] as const;
const released = (v: string) => join(repoRoot, 'model', 'artifacts', `trident-multitask-${v}`);

/** A copy of the test artifact under another version (same files, so every digest stays valid). */
function artifactVersion(root: string, version: string): string {
  const dir = join(root, `trident-test-${version}`);
  cpSync(testArtifact, dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, version }, null, 2));
  return dir;
}

/** Per-test topics, a fresh store, and the registry on the test's own models topic. */
async function setup(prefix: string): Promise<{ config: TridentConfig; env: NodeJS.ProcessEnv; root: string }> {
  const root = mkdtempSync(join(tmpdir(), `trident-${prefix}-`));
  const { config, env } = testConfig(prefix);
  env.TRIDENT_MODELS_STORE = join(root, 'store');
  await createTestTopics(config);
  return { config: { ...config, models: { ...config.models, store: env.TRIDENT_MODELS_STORE } }, env, root };
}

async function cli(args: string[], env: NodeJS.ProcessEnv, expectCode = 0): Promise<string> {
  const result = await runCli(args, env);
  if (result.code !== expectCode)
    throw new Error(`trident ${args.join(' ')} exited ${result.code} (expected ${expectCode}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout + result.stderr;
}

/** Texts with ids `${prefix}-${i}`, every task, spread over the input partitions by key. */
function writeEvents(root: string, count: number, prefix: string): { file: string; ids: string[] } {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  const file = join(root, `${prefix}.jsonl`);
  writeFileSync(
    file,
    ids
      .map((id, i) =>
        JSON.stringify({ id, key: `k${i % 7}`, text: `Order ${i}: Maria in Lisboa loved the café.`, questions: ['Who loved the café?'] }),
      )
      .join('\n') + '\n',
  );
  return { file, ids };
}

/** Every text event's partition and offset, by id. */
async function inputPositions(config: TridentConfig, expected: number): Promise<Map<string, { partition: number; offset: bigint }>> {
  const kafka = createKafka(config, 'trident-test-positions');
  const codec = EventCodec.fromConfig(config);
  const consumer = kafka.consumer({ groupId: `positions-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  const positions = new Map<string, { partition: number; offset: bigint }>();
  await consumer.connect();
  await consumer.subscribe({ topic: config.topics.text, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) =>
      void positions.set((await codec.decode('text', message.value)).id, { partition, offset: BigInt(message.offset) }),
  });
  const deadline = Date.now() + 60_000;
  while (positions.size < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  return positions;
}

const waitFor = async (what: string, check: () => boolean, timeoutMs = 90_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe('model versions', () => {
  it('register verifies (a flipped byte is refused, nothing stored), the same digest is a no-op, and the gate refuses a worse version unless forced', async () => {
    const { env, root } = await setup('models-gate');
    const corrupt = join(root, 'corrupt');
    cpSync(testArtifact, corrupt, { recursive: true });
    const encoder = readFileSync(join(corrupt, 'encoder.onnx'));
    encoder[Math.floor(encoder.length / 2)] ^= 0xff;
    writeFileSync(join(corrupt, 'encoder.onnx'), encoder);
    const refused = await runCli(['models', 'register', corrupt], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/encoder\.onnx: sha256 [0-9a-f]{64} does not match manifest\.json/);
    expect(existsSync(join(env.TRIDENT_MODELS_STORE!, 'sha256')) ? readdirSync(join(env.TRIDENT_MODELS_STORE!, 'sha256')) : []).toEqual([]);

    const first = await cli(['models', 'register', released('1.1.0')], env);
    expect(first.trim().split('\n').pop()).toBe('trident-multitask 1.1.0');
    const again = await cli(['models', 'register', released('1.1.0')], env);
    expect(again).toContain('already registered');
    expect(again.trim().split('\n').pop()).toBe('trident-multitask 1.1.0');
    await cli(['models', 'register', released('1.0.0')], env);
    await cli(['models', 'promote', '1.1.0'], env);

    // 1.0.0 is 2.06 points worse on SST-2 accuracy (89.45 → 87.39): refused, naming metric, split, both values.
    const gate = await runCli(['models', 'promote', 'trident-multitask@1.0.0'], env);
    expect(gate.code).toBe(1);
    expect(gate.stderr).toContain('sst2/dev accuracy: candidate 87.39 < production 89.45');
    expect((await runCli(['models', 'promote', '1.0.0', '--force'], env)).code).toBe(1); // --force needs a reason
    await cli(['models', 'promote', '1.0.0', '--force', '--reason', 'latency matters more here'], env);
    const list = JSON.parse(await cli(['models', 'list', '--json'], env).then((o) => o.slice(o.indexOf('[')))) as Array<
      Record<string, unknown>
    >;
    expect(list.map((v) => [v.version, v.status, v.forced, v.reason])).toEqual([
      ['1.1.0', 'retired', false, null],
      ['1.0.0', 'production', true, 'latency matters more here'],
    ]);
    expect(await cli(['models', 'rollback'], env)).toContain('trident-multitask 1.1.0 is production again (rolled back from 1.0.0)');
    const diff = await cli(['models', 'diff', '1.0.0', '1.1.0'], env);
    expect(diff).toMatch(/sst2\/dev\s+accuracy\s+87\.39\s+89\.45\s+\+2\.06/);
    expect((await runCli(['models', 'promote', '7.7.7'], env)).stderr).toContain('unknown model version 7.7.7');
  }, 240_000);

  it('ten promotions and rollbacks while 2,000 events stream through two processors: one result per task, each from a version production while its batch ran, changing per partition only at promotions', async () => {
    const { config, env, root } = await setup('models-swap');
    const v1 = artifactVersion(root, '1.0.0');
    const v2 = artifactVersion(root, '2.0.0');
    await cli(['models', 'register', v1], env);
    await cli(['models', 'register', v2], env);
    await cli(['models', 'promote', '1.0.0'], env);
    const procEnv = processorEnv(env, { TRIDENT_MODEL_PATH: '', TRIDENT_PROCESSOR_MAX_BATCH_EVENTS: '16' });
    delete procEnv.TRIDENT_MODEL_PATH; // follow the registry
    const serves: ServeProcess[] = [await startServe(procEnv), await startServe(procEnv)];
    try {
      const { file, ids } = writeEvents(root, 2000, 's');
      const producing = runCli(['produce', '--file', file, '--no-progress', '--rate', '60/s'], env);
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 1500));
        await cli(i % 2 === 0 ? ['models', 'promote', '2.0.0'] : ['models', 'rollback'], env);
      }
      expect((await producing).code).toBe(0);
      const results = await Promise.all(
        TASKS.map((task) => readTopic<{ id: string; modelVersion: string; processedAt: number }>(config, task, ids.length)),
      );
      TASKS.forEach((task, i) =>
        expect({ task, ...exactlyOnce(countIds(results[i]!), ids) }).toEqual({ task, missing: [], duplicated: [], unexpected: [] }),
      );

      // The production timeline, from the log: [version, from].
      const records = await readTopic<ModelVersion>(config, 'models', 13, { settleMs: 500 });
      const timeline = records.filter((r) => r.status === 'production').map((r) => ({ version: r.version, from: r.changedAt! }));
      expect(timeline.map((t) => t.version)).toEqual(['1.0.0', ...Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? '2.0.0' : '1.0.0'))]);
      // Each result's version was production when its batch ran: promoted before the result was
      // computed, and replaced no earlier than the swap allowance before it (a processor keeps the
      // old version while it loads and verifies the new one).
      const swapAllowanceMs = 20_000;
      for (const r of results[0]!) {
        const ok = timeline.some(
          (t, i) =>
            t.version === r.modelVersion &&
            t.from <= r.processedAt &&
            r.processedAt <= (timeline[i + 1]?.from ?? Infinity) + swapAllowanceMs,
        );
        if (!ok)
          throw new Error(
            `${r.id} computed by ${r.modelVersion} at ${r.processedAt}, outside its production windows ${JSON.stringify(timeline)}`,
          );
      }
      // Per input partition, in offset order, the version changes only at promotions, in their order.
      const positions = await inputPositions(config, ids.length);
      for (const task of results) {
        const byPartition = new Map<number, Array<{ offset: bigint; version: string }>>();
        for (const r of task) {
          const at = positions.get(r.id)!;
          byPartition.set(at.partition, [...(byPartition.get(at.partition) ?? []), { offset: at.offset, version: r.modelVersion }]);
        }
        for (const [partition, list] of byPartition) {
          const runs = list
            .sort((a, b) => (a.offset < b.offset ? -1 : 1))
            .map((x) => x.version)
            .filter((v, i, all) => i === 0 || all[i - 1] !== v);
          let at = -1;
          for (const version of runs) {
            const next = timeline.findIndex((t, i) => i > at && t.version === version);
            if (next < 0)
              throw new Error(
                `partition ${partition}: versions ${runs.join(' → ')} do not follow the promotions ${timeline.map((t) => t.version).join(' → ')}`,
              );
            at = next;
          }
        }
      }
      expect(new Set(results[0]!.map((r) => r.modelVersion))).toEqual(new Set(['1.0.0', '2.0.0']));
    } finally {
      for (const serve of serves) await stopServe(serve);
    }
  }, 300_000);

  it('a corrupt version planted in the store and forced to production: every processor refuses it, keeps serving, and one rejected record appears', async () => {
    const { config, env, root } = await setup('models-planted');
    await cli(['models', 'register', artifactVersion(root, '1.0.0')], env);
    await cli(['models', 'promote', '1.0.0'], env);
    // Behind the registry's back: a copy with one flipped encoder byte, in the store under its digest, with a candidate record.
    const bad = artifactVersion(root, '6.6.6');
    const encoder = readFileSync(join(bad, 'encoder.onnx'));
    encoder[100] ^= 0x01;
    writeFileSync(join(bad, 'encoder.onnx'), encoder);
    const digest = sha256File(join(bad, 'manifest.json'));
    const location = join(env.TRIDENT_MODELS_STORE!, 'sha256', digest);
    cpSync(bad, location, { recursive: true });
    const now = Date.now();
    const planted: ModelVersion = {
      name: 'trident-test',
      version: '6.6.6',
      artifactDigest: digest,
      location,
      metrics: {},
      status: 'candidate',
      createdAt: now,
      promotedAt: null,
      reason: null,
      changedBy: 'test',
      changedAt: now,
      previousVersion: null,
      forced: false,
    };
    await appendRecords(createKafka(config, 'trident-test-plant'), EventCodec.fromConfig(config), config.topics.models, [planted]);

    const procEnv = processorEnv(env);
    delete procEnv.TRIDENT_MODEL_PATH;
    const serves = [await startServe(procEnv), await startServe(procEnv)];
    try {
      await cli(['models', 'promote', '6.6.6', '--force', '--reason', 'test: planted'], env);
      for (const serve of serves) await waitFor('a processor to refuse 6.6.6', () => serve.output().includes('refused trident-test@6.6.6'));
      const { file, ids } = writeEvents(root, 50, 'p');
      await cli(['produce', '--file', file, '--no-progress'], env);
      const results = await readTopic<{ id: string; modelVersion: string }>(config, 'sentiment', ids.length);
      expect(exactlyOnce(countIds(results), ids)).toEqual({ missing: [], duplicated: [], unexpected: [] });
      expect(new Set(results.map((r) => r.modelVersion))).toEqual(new Set(['1.0.0']));
      const records = await readTopic<ModelVersion>(config, 'models', 5, { settleMs: 3000 });
      const rejected = records.filter((r) => r.status === 'rejected');
      expect(rejected).toHaveLength(1);
      expect(rejected[0]).toMatchObject({
        version: '6.6.6',
        reason: expect.stringMatching(/^digest: .*encoder\.onnx: sha256 [0-9a-f]{64} does not match manifest\.json/),
      });
      const list = await cli(['models', 'list'], env);
      expect(list).toMatch(/\*\s+trident-test\s+1\.0\.0\s+production/);
      expect(list).toMatch(/trident-test\s+6\.6\.6\s+rejected/);
    } finally {
      for (const serve of serves) await stopServe(serve);
    }
  }, 240_000);

  it('a processor started after three promotions serves the current production version', async () => {
    const { config, env, root } = await setup('models-late');
    for (const v of ['1.0.0', '2.0.0', '3.0.0']) await cli(['models', 'register', artifactVersion(root, v)], env);
    for (const v of ['1.0.0', '3.0.0', '2.0.0']) await cli(['models', 'promote', v], env);
    const procEnv = processorEnv(env);
    delete procEnv.TRIDENT_MODEL_PATH;
    const serve = await startServe(procEnv);
    try {
      const { file, ids } = writeEvents(root, 30, 'l');
      await cli(['produce', '--file', file, '--no-progress'], env);
      const results = await readTopic<{ id: string; modelVersion: string }>(config, 'sentiment', ids.length);
      expect(exactlyOnce(countIds(results), ids)).toEqual({ missing: [], duplicated: [], unexpected: [] });
      expect(new Set(results.map((r) => r.modelVersion))).toEqual(new Set(['2.0.0']));
    } finally {
      await stopServe(serve);
    }
  }, 180_000);

  it('serve on an empty registry registers and promotes the newest artifact under model/artifacts/ and says so', async () => {
    const { env } = await setup('models-first');
    const procEnv = processorEnv(env);
    delete procEnv.TRIDENT_MODEL_PATH;
    const serve = await startServe(procEnv);
    try {
      // The newest released artifact (the default model), whichever version that is.
      const newest = JSON.parse(readFileSync(join(newestArtifact(join(repoRoot, 'model', 'artifacts'))!, 'manifest.json'), 'utf8')) as {
        name: string;
        version: string;
      };
      const label = `${newest.name} ${newest.version}`;
      expect(serve.output()).toContain(`the model registry had no production version; registered and promoted ${label}`);
      expect((await cli(['models', 'production'], env)).trim()).toBe(label);
    } finally {
      await stopServe(serve);
    }
  }, 180_000);
});
