/** What `trident learn` prints: the dataset, each head's outcome, the candidate. Pure. */
import type { DatasetSnapshot, HeadOutcome } from '../../model/learn/types';
import type { SupersededStats } from './dataset';
import type { TrainingOutcome } from './training';

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(4));
const metrics = (m: Record<string, number>): string =>
  Object.entries(m)
    .map(([k, v]) => `${k}=${fmt(v)}`)
    .join(' ');

/** `dataset <id>: N examples (T train, H held back) in K heads; S superseded` and one line per head. */
export function datasetLines(snapshot: DatasetSnapshot, superseded: SupersededStats): string[] {
  const heads = Object.entries(snapshot.heads).sort(([a], [b]) => a.localeCompare(b));
  const train = heads.reduce((n, [, h]) => n + h.train, 0);
  const heldout = heads.reduce((n, [, h]) => n + h.heldout, 0);
  return [
    `dataset ${snapshot.id}: ${train + heldout} examples (${train} train, ${heldout} held back) in ${heads.length} heads; ${superseded.count} superseded`,
    ...heads.map(([name, h]) => `  ${name} (${h.task}): ${h.train} train, ${h.heldout} held back, ${Object.keys(h.labels).length} labels`),
  ];
}

/** `head NAME (task): STATUS, L labels, T/H examples, E epochs; held back: … (production …)` or why it was skipped. */
export function headLine(h: HeadOutcome): string {
  const base = `head ${h.head} (${h.task}): ${h.status}, ${h.labels.length} labels, ${h.trainExamples} train / ${h.heldoutExamples} held back`;
  if (h.status === 'skipped') return `${base}; not trained: ${h.reason ?? 'no reason given'}`;
  const heldout = h.heldout
    ? `; held back: ${metrics(h.heldout.candidate)}${h.heldout.production ? ` (production: ${metrics(h.heldout.production)})` : ''}`
    : '';
  return `${base}, ${h.epochs} epochs${heldout}`;
}

/** The lines of a training outcome; the LAST line is the candidate version or `nothing to learn`. */
export function outcomeLines(outcome: TrainingOutcome): string[] {
  if (outcome.kind === 'nothing') return [`(${outcome.reason})`, 'nothing to learn'];
  const { build, record, promotion } = outcome;
  const lines = build.heads.map(headLine);
  for (const d of build.dev) lines.push(`dev ${d.split}: ${metrics(d.candidate)} (production: ${metrics(d.production)})`);
  lines.push(
    `registered ${record.name}@${record.version} as candidate (parent ${build.parentVersion}, dataset ${build.snapshot.id}, tfjs backend ${build.backend}, ${build.seconds.total.toFixed(1)} s: features ${build.seconds.features.toFixed(1)} s, training ${build.seconds.training.toFixed(1)} s, evaluation ${build.seconds.evaluation.toFixed(1)} s)`,
  );
  if (promotion?.promoted) lines.push(`promoted ${record.name}@${record.version} to production (learn.autoPromote)`);
  else if (promotion) lines.push(`not promoted: ${promotion.reason}`);
  lines.push(record.version);
  return lines;
}
