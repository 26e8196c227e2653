/**
 * `/readyz`: Kafka, the schema registry and the result stream answer. Cached for a second (probes
 * may be frequent). A failing check is reported by name only; its error text goes to the log with
 * a request id (it can name hosts, paths and versions a prober should not learn).
 */
import { randomBytes } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../common/logger';
import type { ResultStreamState } from './results';

export interface ReadyReport {
  ready: boolean;
  checks: Record<string, { ok: boolean }>;
  /** Present when not ready: find the errors in the gateway's log under this id. */
  requestId?: string;
}

export class Readiness {
  private admin: Admin | undefined;
  private cache: { at: number; report: ReadyReport } | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly registryUrl: string,
    private readonly results: ResultStreamState,
    private readonly log: Logger,
    private readonly timeoutMs = 3_000,
  ) {}

  async report(): Promise<ReadyReport> {
    const now = Date.now();
    if (this.cache && now - this.cache.at < 1_000) return this.cache.report;
    const errors: Record<string, string> = {};
    const check = async (name: string, f: () => Promise<unknown>) => {
      try {
        await withTimeout(f(), this.timeoutMs);
        return { ok: true };
      } catch (error) {
        errors[name] = (error as Error).message;
        return { ok: false };
      }
    };
    const [kafka, registry] = await Promise.all([
      check('kafka', async () => {
        if (!this.admin) {
          const admin = this.kafka.admin();
          await admin.connect();
          this.admin = admin;
        }
        await this.admin.describeCluster();
      }),
      check('registry', async () => {
        const res = await fetch(`${this.registryUrl.replace(/\/$/, '')}/subjects`, { signal: AbortSignal.timeout(this.timeoutMs) });
        if (!res.ok) throw new Error(`registry answered HTTP ${res.status}`);
        await res.arrayBuffer();
      }),
    ]);
    if (!this.results.running) errors.results = this.results.error ?? 'not reading the result topics yet';
    const report: ReadyReport = {
      ready: kafka.ok && registry.ok && this.results.running,
      checks: { kafka, registry, results: { ok: this.results.running } },
    };
    if (!report.ready) {
      report.requestId = randomBytes(6).toString('hex');
      this.log.warn({ requestId: report.requestId, errors }, 'not ready');
    }
    this.cache = { at: now, report };
    return report;
  }

  async close(): Promise<void> {
    await this.admin?.disconnect();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref())]);
}
