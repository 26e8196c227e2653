import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { serveMetrics } from './metrics-server';

const log = pino({ level: 'silent' });

describe('serveMetrics', () => {
  it('a second server on a taken port falls back to a free one and advertises it for file_sd', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trident-sd-'));
    const first = await serveMetrics({ port: 0, host: '127.0.0.1', job: 'trident-processor', targetsDir: null, log });
    const second = await serveMetrics({ port: first.port, host: '127.0.0.1', job: 'trident-processor', targetsDir: dir, log });
    try {
      expect(second.port).not.toBe(first.port);
      expect(second.port).toBeGreaterThan(0);
      expect(JSON.parse(readFileSync(second.targetFile!, 'utf8'))).toEqual([
        { targets: [`127.0.0.1:${second.port}`], labels: { job: 'trident-processor', instance_pid: String(process.pid) } },
      ]);
      expect((await fetch(`http://127.0.0.1:${second.port}/metrics`)).status).toBe(200);
    } finally {
      await second.close();
      await first.close();
    }
    expect(existsSync(second.targetFile!)).toBe(false);
  });

  it('/healthz and /readyz answer 503 with the reason while the process cannot work', async () => {
    let healthy = false;
    const server = await serveMetrics({
      port: 0,
      host: '127.0.0.1',
      job: 'x',
      targetsDir: null,
      log,
      health: () => ({ healthy, ready: healthy, detail: healthy ? {} : { model: { state: 'restarting' } } }),
    });
    try {
      const down = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ status: 'unavailable', model: { state: 'restarting' } });
      expect((await fetch(`http://127.0.0.1:${server.port}/readyz`)).status).toBe(503);
      healthy = true;
      expect(await (await fetch(`http://127.0.0.1:${server.port}/healthz`)).text()).toBe('ok\n');
    } finally {
      await server.close();
    }
  });
});
