import { nextCandidateVersion, trainingDue } from './trigger';

const policy = { minNewExamples: 200, intervalMs: 3_600_000 };

describe('trainingDue', () => {
  it('never trains without new examples, even long after the last attempt', () => {
    expect(trainingDue({ newExamples: 0, lastAttemptAt: 0 }, policy, 10 * 3_600_000)).toBeNull();
  });
  it('trains at the count, at once', () => {
    expect(trainingDue({ newExamples: 199, lastAttemptAt: 1000 }, policy, 1001)).toBeNull();
    expect(trainingDue({ newExamples: 200, lastAttemptAt: 1000 }, policy, 1001)).toBe('count');
  });
  it('trains a few new examples once the interval passed (boundary included)', () => {
    expect(trainingDue({ newExamples: 3, lastAttemptAt: 1000 }, policy, 1000 + 3_600_000 - 1)).toBeNull();
    expect(trainingDue({ newExamples: 3, lastAttemptAt: 1000 }, policy, 1000 + 3_600_000)).toBe('interval');
  });
});

describe('after a failed attempt', () => {
  it('waits a whole interval even with enough new examples', () => {
    const failed = { newExamples: 500, lastAttemptAt: 1000, lastAttemptFailed: true };
    expect(trainingDue(failed, policy, 2000)).toBeNull();
    expect(trainingDue(failed, policy, 1000 + 3_600_000)).toBe('count');
  });
});

describe('nextCandidateVersion', () => {
  it('suffixes the parent and counts above the highest registered', () => {
    expect(nextCandidateVersion('1.1.0', [])).toBe('1.1.0-ft.1');
    expect(nextCandidateVersion('1.1.0', ['1.0.0', '1.1.0', '1.1.0-ft.1', '1.1.0-ft.3', '1.2.0-ft.9'])).toBe('1.1.0-ft.4');
    expect(nextCandidateVersion('1.1.0-ft.1', ['1.1.0-ft.1'])).toBe('1.1.0-ft.2');
    expect(nextCandidateVersion('1.1.0-ft.5', [])).toBe('1.1.0-ft.6');
  });
});
