/** `trident models …`: register, list, promote, rollback, show, diff. */
import type { Command } from 'commander';
import type { CliContext } from '../../common/cli-context';
import { TridentError } from '../../common/errors';
import { loadManifest, type Manifest } from '../manifest';
import { toPoints } from './gate';
import { ModelRegistry } from './registry';
import {
  displayStatus,
  listVersions,
  parseVersionRef,
  productionVersion,
  resolveVersion,
  type RegistryState,
  type VersionState,
} from './state';

const COUNT_METRICS = new Set(['examples', 'sentences', 'questions']);

/** The one-line metrics summary of `list`: the headline metric of each split, in points. */
export function headlineMetrics(metrics: Record<string, Record<string, number>>): string {
  const headline = ['accuracy', 'f1', 'exact_match', 'macro_f1'];
  return Object.entries(metrics)
    .map(([split, values]) => {
      const metric = headline.find((m) => values[m] !== undefined) ?? Object.keys(values).find((m) => !COUNT_METRICS.has(m));
      return metric ? `${split.split('/')[0]} ${metric} ${toPoints(values[metric]!).toFixed(2)}` : null;
    })
    .filter(Boolean)
    .join(', ');
}

function versionJson(state: RegistryState, v: VersionState): Record<string, unknown> {
  const r = v.record;
  const status = displayStatus(state, v);
  return {
    name: r.name,
    version: r.version,
    status,
    production: status === 'production',
    digest: r.artifactDigest,
    location: r.location,
    metrics: r.metrics,
    registeredAt: new Date(v.registeredAt).toISOString(),
    promotedAt: r.promotedAt === null ? null : new Date(r.promotedAt).toISOString(),
    changedBy: r.changedBy,
    changedAt: r.changedAt === null ? null : new Date(r.changedAt).toISOString(),
    reason: r.reason,
    forced: r.forced,
    previousVersion: r.previousVersion,
    offset: v.offset.toString(),
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** Heads and labels of two manifests: what B adds and removes compared with A. */
export function diffHeads(a: Manifest, b: Manifest): string[] {
  const lines: string[] = [];
  const headsA = new Set(Object.keys(a.heads));
  const headsB = new Set(Object.keys(b.heads));
  for (const h of headsB) if (!headsA.has(h)) lines.push(`+ head ${h} (${b.heads[h]!.task}, ${b.heads[h]!.labels.length} labels)`);
  for (const h of headsA) if (!headsB.has(h)) lines.push(`- head ${h} (${a.heads[h]!.task}, ${a.heads[h]!.labels.length} labels)`);
  for (const h of headsA) {
    if (!headsB.has(h)) continue;
    const la = new Set(a.heads[h]!.labels);
    const lb = new Set(b.heads[h]!.labels);
    const added = [...lb].filter((l) => !la.has(l));
    const removed = [...la].filter((l) => !lb.has(l));
    if (added.length) lines.push(`+ ${h} labels: ${added.join(', ')}`);
    if (removed.length) lines.push(`- ${h} labels: ${removed.join(', ')}`);
  }
  if (a.encoder.sha256 !== b.encoder.sha256) lines.push(`encoder: ${a.encoder.sha256.slice(0, 12)} → ${b.encoder.sha256.slice(0, 12)}`);
  return lines;
}

/** Metrics of two versions side by side: `split metric A B Δpoints`. */
export function diffMetrics(a: Record<string, Record<string, number>>, b: Record<string, Record<string, number>>): string[][] {
  const rows: string[][] = [];
  for (const split of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    for (const metric of [...new Set([...Object.keys(a[split] ?? {}), ...Object.keys(b[split] ?? {})])]) {
      if (COUNT_METRICS.has(metric)) continue;
      const va = a[split]?.[metric];
      const vb = b[split]?.[metric];
      const show = (v: number | undefined) => (v === undefined ? '—' : toPoints(v).toFixed(2));
      const delta =
        va !== undefined && vb !== undefined
          ? (toPoints(vb) - toPoints(va) >= 0 ? '+' : '') + (toPoints(vb) - toPoints(va)).toFixed(2)
          : '';
      rows.push([split, metric, show(va), show(vb), delta]);
    }
  }
  return rows;
}

export function registerModelsCommands(program: Command, context: CliContext): void {
  const models = program
    .command('models')
    .description('model versions: register artifacts, promote, roll back (the registry lives on the models topic)');
  const registry = () => ModelRegistry.fromConfig(context.config());

  models
    .command('register')
    .description(
      'copy an artifact folder into the model store, verify it (digests, parity, a smoke prediction) and register it as a candidate',
    )
    .argument('<dir>', 'artifact folder (manifest.json, encoder, heads, tokenizer, parity.json)')
    .action(async (dir: string) => {
      const outcome = await registry().register(dir);
      const r = outcome.record;
      if (outcome.kind === 'already')
        console.log(`already registered: ${r.name} ${r.version} has digest ${r.artifactDigest.slice(0, 12)}; nothing to do`);
      else
        console.log(`registered ${r.name} ${r.version} as a candidate (digest ${r.artifactDigest.slice(0, 12)}, stored at ${r.location})`);
      console.log(`${r.name} ${r.version}`);
    });

  models
    .command('list')
    .description('every registered version: status, digest, headline metrics; * marks production')
    .option('--json', 'one JSON array')
    .action(async (options: { json?: boolean }) => {
      const state = await registry().state();
      const versions = listVersions(state);
      if (options.json) {
        console.log(
          JSON.stringify(
            versions.map((v) => versionJson(state, v)),
            null,
            2,
          ),
        );
        return;
      }
      if (versions.length === 0) {
        console.log('no model versions registered (trident models register DIR)');
        return;
      }
      const rows = [['', 'NAME', 'VERSION', 'STATUS', 'DIGEST', 'METRICS']];
      for (const v of versions) {
        const status = displayStatus(state, v);
        rows.push([
          status === 'production' ? '*' : ' ',
          v.record.name,
          v.record.version,
          status,
          v.record.artifactDigest.slice(0, 12),
          headlineMetrics(v.record.metrics) || '—',
        ]);
      }
      console.log(table(rows));
    });

  models
    .command('promote')
    .description(
      'make a version production (refused when worse than production on a shared metric by more than models.gateTolerance points)',
    )
    .argument('<version>', 'VERSION or NAME@VERSION')
    .option('--force', 'promote past the metrics gate (or a rejected version); needs --reason')
    .option('--reason <text>', 'why (recorded with the promotion)')
    .action(async (version: string, options: { force?: boolean; reason?: string }) => {
      const { record, previous } = await registry().promote(parseVersionRef(version), {
        force: options.force ?? false,
        ...(options.reason ? { reason: options.reason } : {}),
      });
      console.log(
        `${record.name} ${record.version} is production${previous ? ` (was ${previous.record.version})` : ''}${record.forced ? ' — forced past the gate' : ''}`,
      );
    });

  models
    .command('rollback')
    .description('promote the production version the current one replaced (no gate; recorded as a rollback)')
    .argument('[name]', 'model name, when several are registered')
    .action(async (name?: string) => {
      const { record, from } = await registry().rollback(name);
      console.log(`${record.name} ${record.version} is production again (rolled back from ${from.version})`);
    });

  models
    .command('show')
    .description('one version in full: record, metrics, heads')
    .argument('<version>', 'VERSION, NAME@VERSION or production')
    .action(async (version: string) => {
      const reg = registry();
      const state = await reg.state();
      const v = resolveVersion(state, parseVersionRef(version));
      const out: Record<string, unknown> = versionJson(state, v);
      try {
        const { manifest } = loadManifest(await reg.artifactDir(v.record));
        out.heads = Object.fromEntries(Object.entries(manifest.heads).map(([name, h]) => [name, { task: h.task, labels: h.labels }]));
        out.created = manifest.created ?? null;
        out.baseEncoder = manifest.base_encoder ?? null;
      } catch (error) {
        out.artifact = `unavailable: ${(error as Error).message}`;
      }
      console.log(JSON.stringify(out, null, 2));
    });

  models
    .command('diff')
    .description('two versions side by side: metrics, heads and labels added or removed')
    .argument('<a>', 'VERSION, NAME@VERSION or production')
    .argument('<b>', 'VERSION, NAME@VERSION or production')
    .action(async (a: string, b: string) => {
      const reg = registry();
      const state = await reg.state();
      const va = resolveVersion(state, parseVersionRef(a));
      const vb = resolveVersion(state, parseVersionRef(b));
      const label = (v: VersionState) => `${v.record.name}@${v.record.version}`;
      console.log(`${label(va)} → ${label(vb)}`);
      const rows = diffMetrics(va.record.metrics, vb.record.metrics);
      console.log(
        rows.length ? table([['SPLIT', 'METRIC', va.record.version, vb.record.version, 'Δ POINTS'], ...rows]) : 'no metrics recorded',
      );
      const [ma, mb] = await Promise.all([va, vb].map(async (v) => loadManifest(await reg.artifactDir(v.record)).manifest));
      const heads = diffHeads(ma!, mb!);
      console.log(heads.length ? heads.join('\n') : 'heads and labels: identical');
    });

  models
    .command('production')
    .description('print the production version as NAME VERSION (exit 1 when there is none)')
    .argument('[name]', 'model name, when several are registered')
    .action(async (name?: string) => {
      const current = productionVersion(await registry().state(), name);
      if (!current) throw new TridentError('MODEL_VERSION_UNKNOWN', 'no production version in the registry');
      console.log(`${current.record.name} ${current.record.version}`);
    });
}
