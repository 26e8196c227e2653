/**
 * The processor against the real broker and registry, as the real `trident serve` child process
 * (with the tiny test model, so the tests exercise the streaming, not the model's quality).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestTopics, repoRoot, runCli, testConfig } from './harness';
import { countIds, exactlyOnce, processorEnv, readTopic, startServe, stopServe } from './processor-harness';

const TASK_MIX = [['sentiment'], ['entities', 'answers'], ['sentiment', 'entities', 'categories'], null] as const;

function writeEvents(count: number, prefix: string): { file: string; ids: string[]; byTask: Record<string, string[]> } {
  const dir = mkdtempSync(join(tmpdir(), 'trident-proc-'));
  const file = join(dir, 'events.jsonl');
  const byTask: Record<string, string[]> = { sentiment: [], entities: [], answers: [], categories: [] };
  const ids: string[] = [];
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${prefix}-${i}`;
    const tasks = TASK_MIX[i % TASK_MIX.length];
    ids.push(id);
    for (const t of tasks ?? ['sentiment', 'entities', 'answers', 'categories']) byTask[t]!.push(id);
    lines.push(
      JSON.stringify({
        id,
        text: `Order ${i}: Maria in Lisboa loved the café, but the refund to card ${i % 97} is late.`,
        tasks,
        questions: ['Who loved the café?'],
      }),
    );
  }
  writeFileSync(file, lines.join('\n') + '\n');
  return { file, ids, byTask };
}

async function expectExactlyOnePerTask(config: ReturnType<typeof testConfig>['config'], byTask: Record<string, string[]>): Promise<void> {
  const tasks = ['sentiment', 'entities', 'answers', 'categories'] as const;
  const started = Date.now();
  const all = await Promise.all(tasks.map((task) => readTopic<{ id: string }>(config, task, byTask[task]!.length)));
  process.stderr.write(`read ${all.map((r) => r.length).join('/')} results in ${Date.now() - started} ms\n`);
  tasks.forEach((task, i) => {
    expect({ task, ...exactlyOnce(countIds(all[i]!), byTask[task]!) }).toEqual({ task, missing: [], duplicated: [], unexpected: [] });
  });
}

describe('trident serve (processor)', () => {
  it('10,000 events with mixed tasks → exactly one result per event per requested task', async () => {
    const { config, env } = testConfig('proc-10k');
    await createTestTopics(config);
    const { file, byTask } = writeEvents(10_000, 'e');
    const serve = await startServe(processorEnv(env));
    try {
      expect((await runCli(['produce', '--file', file, '--no-progress'], env)).code).toBe(0);
      await expectExactlyOnePerTask(config, byTask);
      const answers = await readTopic<{ id: string; answers: Array<{ question: string }>; text: string }>(
        config,
        'answers',
        byTask.answers!.length,
        { settleMs: 0 },
      );
      expect(answers[0]!.answers[0]!.question).toBe('Who loved the café?');
      expect(await readTopic(config, 'dlq', 0, { settleMs: 500, timeoutMs: 2000 })).toEqual([]);
    } finally {
      await stopServe(serve);
    }
  });

  it('survives kill -9 five times under load: still exactly one result per event per task', async () => {
    const { config, env } = testConfig('proc-crash');
    await createTestTopics(config);
    const { file, byTask } = writeEvents(3000, 'c');
    // A killed member holds its partitions until its session times out; keep that short here.
    const procEnv = processorEnv(env, { TRIDENT_PROCESSOR_MAX_BATCH_EVENTS: '8', TRIDENT_PROCESSOR_SESSION_TIMEOUT_MS: '6000' });
    // Events keep arriving (paced) while the processor is killed and restarted, so every kill lands mid-stream.
    const producing = runCli(['produce', '--file', file, '--no-progress', '--rate', '150/s'], env);
    const logs: string[] = [];
    for (let kill = 0; kill < 5; kill++) {
      const serve = await startServe(procEnv);
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 1200));
      serve.child.kill('SIGKILL');
      expect(await serve.exited).toBe('SIGKILL');
      logs.push(serve.output());
    }
    const serve = await startServe(procEnv);
    expect((await producing).code).toBe(0);
    try {
      await expectExactlyOnePerTask(config, byTask);
    } catch (error) {
      // The last processor's log says where it stood (CI keeps only the test's output).
      process.stderr.write(`last processor's log (tail):\n${serve.output().slice(-6000)}\n`);
      throw error;
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
      logs.push(serve.output());
      logs.forEach((log, i) => writeFileSync(join(repoRoot, 'test-output', `processor-crash-${i}.log`), log));
    }
  });

  it('two processors in one group, one stops mid-stream: no loss, no duplicates', async () => {
    const { config, env } = testConfig('proc-two');
    await createTestTopics(config);
    const { file, byTask } = writeEvents(4000, 't');
    const procEnv = processorEnv(env, { TRIDENT_PROCESSOR_MAX_BATCH_EVENTS: '8' });
    const a = await startServe(procEnv);
    const b = await startServe(procEnv);
    try {
      expect((await runCli(['produce', '--file', file, '--no-progress'], env)).code).toBe(0);
      await new Promise((r) => setTimeout(r, 800));
      await stopServe(a);
      await expectExactlyOnePerTask(config, byTask);
    } finally {
      a.child.kill('SIGKILL');
      b.child.kill('SIGTERM');
      await b.exited;
      writeFileSync(join(repoRoot, 'test-output', 'processor-two-a.log'), a.output());
      writeFileSync(join(repoRoot, 'test-output', 'processor-two-b.log'), b.output());
    }
  });
});
