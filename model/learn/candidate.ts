/**
 * PLACEHOLDER — replaced at merge by the real candidate builder (features → trained heads → a
 * candidate artifact, on tfjs). It exists only so the learner's consumer (consumers/learner/)
 * compiles and its tests run on this branch; `CANDIDATE_PLACEHOLDER` lets tests that need real
 * training skip here. The real module does not export it.
 */
import { learnerErrorCodes } from '../../common/error-codes';
import { TridentError } from '../../common/errors';
import type { BuildCandidateOptions, CandidateBuild } from './types';

export const CANDIDATE_PLACEHOLDER = true;

/** @throws TridentError LEARN_UNAVAILABLE, always (no trainer in this build). */
export function buildCandidate(options: BuildCandidateOptions): Promise<CandidateBuild> {
  return Promise.reject(
    new TridentError(
      learnerErrorCodes.LEARN_UNAVAILABLE,
      `no head trainer in this build (model/learn/candidate.ts is a placeholder); cannot build ${options.version}`,
    ),
  );
}
