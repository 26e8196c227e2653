/**
 * The checks a model version passes before it is registered or served: the manifest and every
 * file's digest, the parity fixture (parity.json: inputs and the outputs the Python reference
 * computed), and a smoke prediction over every task. Passing them also warms the encoder up.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ModelArtifactError, TridentError } from '../../common/errors';
import { loadManifest, readVerified, sha256File } from '../manifest';
import { thisMachineInt8Gemm } from '../cpu';
import { compareFixture, type ParityFixtureMeta } from '../parity';
import { Pipeline, type PipelineOptions } from '../pipeline';
import type { PredictInput, PredictOutput } from '../types';

/** The manifest format this runtime reads; a newer one is refused by name. */
const SUPPORTED_FORMAT = 'trident-model/1';

/** A version failed a check; `check` says which (the refused-versions metric is labelled by it). */
export class ModelVerificationError extends TridentError {
  constructor(
    readonly check: 'manifest' | 'digest' | 'load' | 'parity' | 'smoke' | 'store' | 'timeout',
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super('MODEL_VERIFICATION_FAILED', message, options);
  }
}

interface ParityFile extends ParityFixtureMeta {
  inputs: PredictInput[];
  tasks: string[];
  expected: { int8?: PredictOutput[] };
}

/** Checks the manifest (format, schema) and every file's sha256 without loading anything. Throws ModelVerificationError. */
export function verifyFiles(dir: string, expectedDigest?: string): void {
  const manifestFile = path.join(dir, 'manifest.json');
  if (expectedDigest) {
    let actual: string;
    try {
      actual = sha256File(manifestFile);
    } catch (cause) {
      throw new ModelVerificationError('manifest', `${manifestFile}: cannot read manifest (${(cause as Error).message})`, { cause });
    }
    if (actual !== expectedDigest)
      throw new ModelVerificationError(
        'digest',
        `${manifestFile}: sha256 ${actual} does not match the registry's artifactDigest ${expectedDigest}`,
      );
  }
  let format: unknown;
  try {
    format = (JSON.parse(readFileSync(manifestFile, 'utf8')) as { format?: unknown }).format;
  } catch (cause) {
    throw new ModelVerificationError('manifest', `${manifestFile}: cannot read manifest (${(cause as Error).message})`, { cause });
  }
  if (typeof format === 'string' && format !== SUPPORTED_FORMAT && format.startsWith('trident-model/')) {
    throw new ModelVerificationError(
      'manifest',
      `${manifestFile}: manifest format ${format} is newer than this runtime reads (${SUPPORTED_FORMAT}); upgrade Trident`,
    );
  }
  let manifest;
  try {
    manifest = loadManifest(dir).manifest;
  } catch (cause) {
    throw new ModelVerificationError('manifest', (cause as Error).message, { cause });
  }
  const named = [manifest.tokenizer, manifest.encoder, ...Object.values(manifest.heads)];
  for (const { file, sha256 } of named) {
    try {
      readVerified(dir, file, sha256);
    } catch (cause) {
      throw new ModelVerificationError('digest', (cause as Error).message, { cause });
    }
  }
}

/**
 * Runs parity.json through a loaded pipeline: every output must match the int8 reference by the
 * project's cross-CPU parity rules (model/parity.ts: decisions exactly unless recorded as near ties,
 * probabilities within the tolerance of this CPU's int8 kernel path against the fixture's). An artifact without parity.json passes (nothing to
 * compare). Throws ModelVerificationError naming the parity input, the output path and both values.
 */
export async function checkParity(pipeline: Pipeline): Promise<number> {
  const file = path.join(pipeline.dir, 'parity.json');
  if (!existsSync(file)) return 0;
  let parity: ParityFile;
  try {
    parity = JSON.parse(readFileSync(file, 'utf8')) as ParityFile;
  } catch (cause) {
    throw new ModelVerificationError('parity', `${file}: cannot read (${(cause as Error).message})`, { cause });
  }
  const expected = parity.expected.int8;
  if (!expected) return 0;
  const tasks = parity.tasks.filter((t) => (pipeline.tasks as string[]).includes(t));
  const int8Gemm = thisMachineInt8Gemm();
  let compared = 0;
  for (const [i, input] of parity.inputs.entries()) {
    if (input.text.trim() === '') continue; // rejected by contract; the pipeline tests cover it
    let actual: PredictOutput;
    try {
      [actual] = (await pipeline.run([input], tasks as never)) as [PredictOutput];
    } catch (cause) {
      throw new ModelVerificationError('parity', `${file}: parity input ${input.id} failed to run: ${(cause as Error).message}`, { cause });
    }
    const diffs = compareFixture({ ...parity, expected: { int8: expected } }, [{ expected: expected[i]!, actual }], int8Gemm);
    if (diffs.length > 0) {
      const d = diffs[0]!;
      throw new ModelVerificationError(
        'parity',
        `${file}: parity input ${input.id}: ${d.path} is ${JSON.stringify(d.actual)}, expected ${JSON.stringify(d.expected)}${diffs.length > 1 ? ` (and ${diffs.length - 1} more differences)` : ''}`,
      );
    }
    compared++;
  }
  return compared;
}

/** One prediction over every task the artifact serves; every probability must be a finite number in [0, 1]. Throws ModelVerificationError. */
export async function smokeTest(pipeline: Pipeline): Promise<void> {
  const input: PredictInput = {
    id: 'smoke',
    text: 'Angela Merkel visited the Siemens plant in Munich and liked it.',
    questions: ['Who visited the plant?'],
  };
  let output: PredictOutput;
  try {
    [output] = (await pipeline.run([input], pipeline.tasks)) as [PredictOutput];
  } catch (cause) {
    throw new ModelVerificationError('smoke', `${pipeline.dir}: smoke prediction failed: ${(cause as Error).message}`, { cause });
  }
  const bad: string[] = [];
  const walk = (value: unknown, at: string): void => {
    if (typeof value === 'number') {
      if (!Number.isFinite(value) || ((at.endsWith('score') || at.includes('scores')) && (value < 0 || value > 1)))
        bad.push(`${at}=${value}`);
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${at}[${i}]`));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, `${at}.${k}`);
  };
  for (const task of pipeline.tasks) {
    if (output[task] === undefined) bad.push(`${task} missing`);
    walk(output[task], task);
  }
  if (bad.length > 0)
    throw new ModelVerificationError('smoke', `${pipeline.dir}: smoke prediction is not well-formed: ${bad.slice(0, 3).join(', ')}`);
}

/**
 * Verifies an artifact folder and returns it loaded and warmed up: files and digests, then the
 * encoder session, then parity and a smoke prediction; with `expectedDigest`, manifest.json must
 * have that sha256 (the registry's record). The pipeline is closed when a check fails.
 * Throws ModelVerificationError.
 */
export async function loadVerifiedPipeline(dir: string, options: PipelineOptions = {}, expectedDigest?: string): Promise<Pipeline> {
  verifyFiles(dir, expectedDigest);
  let pipeline: Pipeline;
  try {
    pipeline = await Pipeline.load(dir, options);
  } catch (cause) {
    throw new ModelVerificationError(cause instanceof ModelArtifactError ? 'digest' : 'load', (cause as Error).message, { cause });
  }
  try {
    await checkParity(pipeline);
    await smokeTest(pipeline);
    return pipeline;
  } catch (error) {
    await pipeline.close();
    throw error;
  }
}
