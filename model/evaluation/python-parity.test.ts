/**
 * `trident eval` and the Python evaluator (training/trident_training/metrics.py, through
 * score_predictions.py) must give identical metrics on the same predictions file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { evaluateFile } from './cli';
import type { Report } from './run';

const ROOT = path.resolve(__dirname, '../..');
const FIXTURE = path.join(__dirname, 'fixtures', 'labeled.jsonl');
const A = path.join(ROOT, 'model', 'test-artifact');
const B = path.join(ROOT, 'model', 'artifacts', 'trident-multitask-1.1.0');

/** training/.venv's python when it exists, else python3 (the metrics need only the standard library). */
function findPython(): string | null {
  for (const candidate of [path.join(ROOT, 'training', '.venv', 'bin', 'python'), 'python3']) {
    if (candidate.includes(path.sep) && !existsSync(candidate)) continue;
    if (spawnSync(candidate, ['-c', 'import sys; assert sys.version_info >= (3, 10)']).status === 0) return candidate;
  }
  return null;
}

const python = findPython();
const maybe = python ? describe : describe.skip;
if (!python) console.warn('skipped: the TypeScript ↔ Python metric parity test needs Python 3.10+ (python3 not found)');

/** The numbers both sides report: drop what only one side computes (reliability bins, per-type keys are compared whole). */
function comparable(tasks: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [task, m] of Object.entries(tasks)) {
    const keep =
      task === 'entities'
        ? ['n', 'precision', 'recall', 'f1', 'per_type', 'ece']
        : task === 'answers'
          ? ['n', 'exact_match', 'f1', 'ece']
          : ['n', 'accuracy', 'macro_f1', 'macro_precision', 'macro_recall', 'per_label', 'confusion', 'ece'];
    out[task] = Object.fromEntries(keep.map((k) => [k, m[k]]));
  }
  return out;
}

maybe('TypeScript metrics = Python metrics on the same predictions', () => {
  let dir: string;
  let report: Report;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'trident-parity-'));
    report = await evaluateFile({ file: FIXTURE, models: [A, B], out: dir });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('scores every task of both models identically', () => {
    const keys = Object.keys(report.models);
    expect(keys).toEqual(['0.0.1', '1.1.0']);
    const stdout = execFileSync(
      python!,
      ['-m', 'trident_training.score_predictions', path.join(dir, 'predictions.jsonl'), '--labels', `0.0.1=${A}`, '--labels', `1.1.0=${B}`],
      {
        cwd: path.join(ROOT, 'training'),
        encoding: 'utf8',
      },
    );
    const py = JSON.parse(stdout) as Record<string, Record<string, Record<string, unknown>>>;
    for (const key of keys) {
      expect(Object.keys(py[key]).sort()).toEqual(['answers', 'categories', 'entities', 'sentiment']);
      expect(comparable(py[key])).toEqual(comparable(report.models[key]));
    }
    // Not a trivially perfect model: the fixture exercises errors on both sides.
    expect((report.models['0.0.1'].sentiment as { accuracy: number }).accuracy).toBeLessThan(1);
  });
});
