/** The model runtime: one shared encoder, four tasks. See model/README.md for the artifact contract. */
export { Pipeline, type PipelineOptions, type RunStats } from './pipeline';
export type { PredictInput, PredictOutput, SentimentResult, EntityResult, AnswerResult, CategoryResult } from './types';
export { builtInTasks, type TaskName } from '../common/tasks';
export { type Manifest, type LoadedManifest, loadManifest, parseManifest } from './manifest';
export { validateInput, checkTasks, DEFAULT_LIMITS, type InputLimits } from './validate';
export { predictJsonLines, type PredictErrorLine } from './predict-file';
export { WorkerEncoder, InlineEncoder, type Encoder, type EncoderOptions } from './encoder';
export { thisMachineInt8Gemm } from './cpu';
export {
  compareFixture,
  compareOutputs,
  CROSS_PATH_TOLERANCE,
  DECISION_MARGIN,
  PARITY_TOLERANCE,
  SAME_PATH_TOLERANCE,
  toleranceFor,
  type CompareOptions,
  type NearTies,
  type ParityDiff,
  type ParityFixtureMeta,
} from './parity';
export { registerPredictCommand } from './cli';
export { resolveModelDir, newestArtifact } from './artifacts';
