/** Scaling on one host: `trident serve` started twice with the same settings shares the partitions. */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestTopics, testConfig } from './harness';
import { NONE_LOST_OR_DUPLICATED, countPerTask, produceEvents } from './fault-harness';
import { processorEnv, startServe, stopServe } from './processor-harness';

describe('two `trident serve` on one host', () => {
  it('both start with the same metrics port (the second falls back to a free port and advertises it) and share the partitions', async () => {
    const { config, env } = testConfig('scale');
    await createTestTopics(config);
    const targets = mkdtempSync(join(tmpdir(), 'trident-targets-'));
    // The same configured port for both, as when each is started without flags.
    const procEnv = processorEnv(env, {
      TRIDENT_PROCESSOR_METRICS_PORT: '29465',
      TRIDENT_PROCESSOR_METRICS_TARGETS_DIR: targets,
      TRIDENT_PROCESSOR_MAX_BATCH_EVENTS: '8',
    });
    const a = await startServe(procEnv);
    const b = await startServe(procEnv);
    try {
      const files = readdirSync(targets).map((f) => JSON.parse(readFileSync(join(targets, f), 'utf8')) as Array<{ targets: string[] }>);
      const ports = files.map((f) => Number(f[0]!.targets[0]!.split(':')[1]));
      expect(ports).toHaveLength(2);
      expect(new Set(ports).size).toBe(2);
      expect(ports).toContain(29465);
      for (const port of ports) expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect(a.output() + b.output()).toContain('metrics port 29465 is in use');
      const ids = await produceEvents(config, 'scale', 600);
      expect(await countPerTask(config, ids)).toEqual(NONE_LOST_OR_DUPLICATED);
      // Both members got partitions (3 partitions, two members).
      const assigned = (out: string) => [...out.matchAll(/"assignment":\{"[^"]+":\[([\d,]*)\]\}/g)].map((m) => m[1]).pop() ?? '';
      expect(assigned(a.output()).length).toBeGreaterThan(0);
      expect(assigned(b.output()).length).toBeGreaterThan(0);
    } finally {
      await stopServe(b);
      await stopServe(a);
    }
    expect(readdirSync(targets)).toEqual([]);
  });
});
