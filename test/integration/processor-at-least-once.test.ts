/**
 * `processor.delivery: at-least-once` on the real broker, as the real `trident serve` child: kill -9
 * under load loses nothing. Duplicates are allowed (a killed batch whose results were acknowledged
 * but whose offset was not committed is read again); they are counted and removed by id with the
 * ResultDedup helper readers use.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Consumer, Kafka } from 'kafkajs';
import { ResultDedup } from '../../common/result-dedup';
import { createTestTopics, runCli, testConfig, uniqueName } from './harness';
import { countIds, processorEnv, readTopic, startServe, stopServe } from './processor-harness';
import { produceEvents, startInProcess } from './fault-harness';

/** A Kafka whose consumers fail the `n`-th commitOffsets (counted from 1): a crash between the acks and the offset commit. */
function failNthOffsetCommit(kafka: Kafka, n: number, failed: string[]): Kafka {
  let count = 0;
  return new Proxy(kafka, {
    get(target, prop, receiver) {
      if (prop !== 'consumer') return Reflect.get(target, prop, receiver);
      return (config: Parameters<Kafka['consumer']>[0]) =>
        new Proxy(target.consumer(config), {
          get(c, name, r) {
            if (name !== 'commitOffsets') return Reflect.get(c, name, r);
            return async (offsets: Parameters<Consumer['commitOffsets']>[0]) => {
              if (++count === n) {
                failed.push(JSON.stringify(offsets));
                throw new Error('offset commit lost (injected)');
              }
              return c.commitOffsets(offsets);
            };
          },
        }) as Consumer;
    },
  });
}

const TASKS = ['sentiment', 'entities', 'answers', 'categories'] as const;

describe('trident serve with processor.delivery at-least-once', () => {
  it('an offset commit lost after the results were acknowledged re-delivers the batch: repeats, no loss, removed by id', async () => {
    const group = uniqueName('alo-commit');
    const { config } = testConfig('alo-commit', {
      // dedupWindow 0s: with it on, the redelivered events would be dead-lettered as DUPLICATE_ID instead of repeated.
      processor: { groupId: group, transactionalIdPrefix: group, delivery: 'at-least-once', maxBatchEvents: 8, dedupWindow: '0s' },
    });
    await createTestTopics(config);
    const ids = await produceEvents(config, 'alo-commit', 200);
    const failed: string[] = [];
    const running = await startInProcess(config, { wrapKafka: (kafka) => failNthOffsetCommit(kafka, 3, failed) });
    try {
      const all = await Promise.all(TASKS.map((task) => readTopic<{ id: string }>(config, task, ids.length)));
      const dedup = new ResultDedup();
      TASKS.forEach((task, i) => {
        const counts = countIds(all[i]!);
        expect({ task, missing: ids.filter((id) => !counts.has(id)).length }).toEqual({ task, missing: 0 });
        // The batch whose offset commit was lost was processed twice: its events' results repeat.
        expect(all[i]!.length).toBeGreaterThan(ids.length);
        expect(all[i]!.filter((r) => dedup.first(task, r))).toHaveLength(ids.length);
      });
      expect(failed).toHaveLength(1);
      expect(running.logs.join('')).toContain('DELIVERY_FAILED');
      process.stderr.write(`at-least-once, one lost offset commit: ${dedup.duplicates} repeated results removed by id\n`);
    } finally {
      await running.stop();
    }
  });

  it('survives kill -9 four times under load: every event has every result; repeats are counted and removed by id', async () => {
    const { config, env } = testConfig('alo-crash');
    await createTestTopics(config);
    const ids = Array.from({ length: 2000 }, (_, i) => `alo-${i}`);
    const file = join(mkdtempSync(join(tmpdir(), 'trident-alo-')), 'events.jsonl');
    writeFileSync(
      file,
      ids
        .map((id, i) => JSON.stringify({ id, text: `Order ${i}: Maria in Lisboa loved the café.`, questions: ['Who loved the café?'] }))
        .join('\n') + '\n',
    );
    const procEnv = processorEnv(env, {
      TRIDENT_PROCESSOR_DELIVERY: 'at-least-once',
      TRIDENT_PROCESSOR_MAX_BATCH_EVENTS: '8',
      TRIDENT_PROCESSOR_SESSION_TIMEOUT_MS: '6000',
    });
    const producing = runCli(['produce', '--file', file, '--no-progress', '--rate', '150/s'], env);
    for (let kill = 0; kill < 4; kill++) {
      const serve = await startServe(procEnv);
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 1200));
      serve.child.kill('SIGKILL');
      expect(await serve.exited).toBe('SIGKILL');
    }
    const serve = await startServe(procEnv);
    expect((await producing).code).toBe(0);
    try {
      const all = await Promise.all(TASKS.map((task) => readTopic<{ id: string }>(config, task, ids.length, { settleMs: 3000 })));
      const dedup = new ResultDedup();
      const report = TASKS.map((task, i) => {
        const counts = countIds(all[i]!);
        const kept = all[i]!.filter((r) => dedup.first(task, r));
        return {
          task,
          missing: ids.filter((id) => !counts.has(id)).length,
          unexpected: [...counts.keys()].filter((id) => !id.startsWith('alo-')).length,
          repeats: all[i]!.length - counts.size,
          afterDedup: { records: kept.length, distinct: countIds(kept).size },
        };
      });
      process.stderr.write(`at-least-once after 4 kills: ${JSON.stringify(report)}\n`);
      for (const r of report) {
        expect({ task: r.task, missing: r.missing, unexpected: r.unexpected }).toEqual({ task: r.task, missing: 0, unexpected: 0 });
        expect(r.afterDedup).toEqual({ records: ids.length, distinct: ids.length });
      }
      expect(dedup.duplicates).toBe(report.reduce((n, r) => n + r.repeats, 0));
      // The same through the CLI a reader would use: one line per event.
      const tailed = await runCli(['tail', 'sentiment', '--from-beginning', '--dedupe'], env);
      expect(tailed.code).toBe(0);
      expect(
        new Set(
          tailed.stdout
            .trim()
            .split('\n')
            .map((l) => (JSON.parse(l) as { id: string }).id),
        ).size,
      ).toBe(ids.length);
      expect(tailed.stdout.trim().split('\n')).toHaveLength(ids.length);
      // A redelivered event whose processed id reached the changelog before the kill is dead-lettered
      // as DUPLICATE_ID (its results exist: counted above); nothing else may be dead-lettered.
      const dlq = await readTopic<{ errorCode: string }>(config, 'dlq', 0, { settleMs: 500, timeoutMs: 3000 });
      process.stderr.write(`at-least-once: ${dlq.length} redelivered events dead-lettered as DUPLICATE_ID\n`);
      expect(dlq.filter((d) => d.errorCode !== 'DUPLICATE_ID')).toEqual([]);
    } finally {
      await stopServe(serve);
    }
  });
});
