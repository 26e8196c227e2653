/**
 * A process's /metrics, /healthz and /readyz endpoint. Several processes of one kind may run on one
 * host (`trident serve` scales by starting more), so a port already in use is not fatal: the server
 * falls back to any free port with a warning (port 0 asks for one from the start), logs the port it
 * got, and advertises it in a Prometheus file-based service discovery target file
 * (`<targetsDir>/<job>-<host>-<pid>.json`, removed on close).
 */
import { createServer, type Server } from 'node:http';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { metricsRegistry } from './metrics';

export interface HealthReport {
  /** Liveness and readiness: false while the process cannot do its job (model restarting, stopped). */
  healthy: boolean;
  ready: boolean;
  detail: Record<string, unknown>;
}

export interface MetricsServerOptions {
  port: number;
  host: string;
  /** Prometheus job name, and the target file's prefix. */
  job: string;
  /** Where to write the file_sd target file; null: none. */
  targetsDir: string | null;
  health?: () => HealthReport;
  log: Logger;
}

export interface MetricsServer {
  server: Server;
  port: number;
  /** The advertised file_sd target file, if any. */
  targetFile: string | null;
  close(): Promise<void>;
}

export async function serveMetrics(options: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      res.setHeader('Content-Type', metricsRegistry.contentType);
      res.end(await metricsRegistry.metrics());
    } else if (path === '/healthz' || path === '/readyz') {
      const report = options.health?.() ?? { healthy: true, ready: true, detail: {} };
      const ok = path === '/healthz' ? report.healthy : report.ready;
      if (ok && Object.keys(report.detail).length === 0) {
        res.end('ok\n');
        return;
      }
      res.statusCode = ok ? 200 : 503;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', ...report.detail }) + '\n');
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  let port: number;
  try {
    port = await listen(server, options.port, options.host);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    port = await listen(server, 0, options.host);
    options.log.warn(
      { wanted: options.port, port },
      `metrics port ${options.port} is in use (another process on this host?); serving /metrics on ${port} instead`,
    );
  }
  const targetFile = options.targetsDir ? advertise(options.targetsDir, options.job, options.host, port) : null;
  options.log.info({ port, host: options.host, targetFile }, `metrics on http://${options.host}:${port}/metrics`);
  return {
    server,
    port,
    targetFile,
    close: () =>
      new Promise<void>((resolve) => {
        if (targetFile) rmSync(targetFile, { force: true });
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Writes a file_sd target file atomically (Prometheus re-reads the directory's files on change). */
function advertise(dir: string, job: string, host: string, port: number): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${job}-${hostname()}-${process.pid}.json`);
  const target = `${host === '0.0.0.0' || host === '::' ? hostname() : host}:${port}`;
  const body = JSON.stringify([{ targets: [target], labels: { job, instance_pid: String(process.pid) } }], null, 2) + '\n';
  writeFileSync(`${file}.tmp`, body);
  renameSync(`${file}.tmp`, file);
  return file;
}
