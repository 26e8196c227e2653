/** When the learner trains: pure, on counts and an injected time. */

export type TrainReason = 'count' | 'interval';

export interface TriggerState {
  /** Examples accepted or changed since the last training. */
  newExamples: number;
  /** When training last ran (succeeded or failed), or when the learner started; ms. */
  lastAttemptAt: number;
  /** The last attempt failed: wait a whole interval before the next, whatever the count (no retry loop). */
  lastAttemptFailed?: boolean;
}

export interface TriggerPolicy {
  minNewExamples: number;
  intervalMs: number;
}

/**
 * `count` once `minNewExamples` new examples arrived; `interval` when at least one is new and the
 * interval passed since the last attempt; null otherwise (nothing new never trains). After a failed
 * attempt, only the interval triggers.
 */
export function trainingDue(state: TriggerState, policy: TriggerPolicy, now: number): TrainReason | null {
  if (state.newExamples <= 0) return null;
  if (state.lastAttemptFailed && now - state.lastAttemptAt < policy.intervalMs) return null;
  if (state.newExamples >= policy.minNewExamples) return 'count';
  if (now - state.lastAttemptAt >= policy.intervalMs) return 'interval';
  return null;
}

/**
 * The candidate's version: the parent's with a `-ft.N` suffix (1.1.0 → 1.1.0-ft.1; 1.1.0-ft.1 →
 * 1.1.0-ft.2), N one above the highest `-ft` registered for the same base version.
 */
export function nextCandidateVersion(parent: string, registered: Iterable<string>): string {
  const base = parent.replace(/-ft\.\d+$/, '');
  const escaped = base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^${escaped}-ft\\.(\\d+)$`);
  let highest = 0;
  for (const version of [parent, ...registered]) {
    const match = pattern.exec(version);
    if (match) highest = Math.max(highest, Number(match[1]));
  }
  return `${base}-ft.${highest + 1}`;
}
