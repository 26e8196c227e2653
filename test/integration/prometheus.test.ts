/** Prometheus (Debian's package) scrapes the processor's prom-client /metrics with stack/prometheus.yml's job. */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { createTestTopics, repoRoot, runCli, testConfig } from './harness';
import { processorEnv, startServe, stopServe } from './processor-harness';

const METRICS_PORT = 29464;
const PROMETHEUS_PORT = 29090;

describe('Prometheus scrapes the processor', () => {
  it('reads trident_processor_* series from a running `trident serve`', async () => {
    const { config, env } = testConfig('prom');
    await createTestTopics(config);
    const serve = await startServe(processorEnv(env, { TRIDENT_PROCESSOR_METRICS_PORT: String(METRICS_PORT) }));
    const dir = mkdtempSync(join(tmpdir(), 'trident-prom-'));
    // The project's own scrape config, with the processor's target moved to this test's port.
    const scrape = parse(readFileSync(join(repoRoot, 'stack', 'prometheus.yml'), 'utf8'));
    scrape.global.scrape_interval = '1s';
    scrape.scrape_configs = scrape.scrape_configs.filter((job: { job_name: string }) => job.job_name === 'trident-processor');
    scrape.scrape_configs[0].static_configs[0].targets = [`127.0.0.1:${METRICS_PORT}`];
    writeFileSync(join(dir, 'prometheus.yml'), stringify(scrape));
    copyFileSync(join(repoRoot, 'stack', 'prometheus-rules.yml'), join(dir, 'prometheus-rules.yml')); // its rule_files
    const prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${PROMETHEUS_PORT}`,
      ],
      { stdio: 'ignore' },
    );
    try {
      expect((await runCli(['produce', 'Prometheus should see this event.', '--tasks', 'sentiment'], env)).code).toBe(0);
      let value: string | undefined;
      for (let attempt = 0; attempt < 60 && value === undefined; attempt++) {
        await new Promise((r) => setTimeout(r, 500));
        const response = await fetch(
          `http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/query?query=${encodeURIComponent(`sum(trident_processor_results_total{job="trident-processor",task="sentiment"})`)}`,
        ).catch(() => null);
        const body = response?.ok ? ((await response.json()) as { data: { result: Array<{ value: [number, string] }> } }) : null;
        const sample = body?.data.result[0]?.value[1];
        if (sample !== undefined && Number(sample) >= 1) value = sample;
      }
      expect(Number(value)).toBe(1);
    } finally {
      prometheus.kill('SIGTERM');
      await stopServe(serve);
    }
  });
});
