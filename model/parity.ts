import type { PredictOutput } from './types';

/** One difference between a runtime output and the expected one. */
export interface ParityDiff {
  id: string;
  path: string;
  expected: unknown;
  actual: unknown;
}

/**
 * Compares outputs the way the contract states (model/README.md): labels, texts, offsets and nulls
 * exactly; every probability within `tolerance`. Pure.
 */
export function compareOutputs(expected: PredictOutput, actual: PredictOutput, tolerance = 1e-3): ParityDiff[] {
  const diffs: ParityDiff[] = [];
  const walk = (e: unknown, a: unknown, at: string): void => {
    if (typeof e === 'number' && typeof a === 'number') {
      const exact = at.endsWith('.start') || at.endsWith('.end');
      if (exact ? e !== a : !(Math.abs(e - a) <= tolerance)) diffs.push({ id: expected.id, path: at, expected: e, actual: a });
    } else if (Array.isArray(e) && Array.isArray(a)) {
      if (e.length !== a.length) diffs.push({ id: expected.id, path: `${at}.length`, expected: e.length, actual: a.length });
      else e.forEach((x, i) => walk(x, a[i], `${at}[${i}]`));
    } else if (e !== null && a !== null && typeof e === 'object' && typeof a === 'object') {
      const keys = new Set([...Object.keys(e), ...Object.keys(a)]);
      for (const k of keys) walk((e as Record<string, unknown>)[k], (a as Record<string, unknown>)[k], `${at}.${k}`);
    } else if (e !== a) {
      diffs.push({ id: expected.id, path: at, expected: e, actual: a });
    }
  };
  walk(expected, actual, expected.id);
  return diffs;
}
