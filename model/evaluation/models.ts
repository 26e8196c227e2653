/**
 * The one or two models an evaluation runs: resolving `--models` specs to artifact folders, loading
 * them, and running chunks of inputs through each with timings. Shared by `trident eval` and
 * `trident replay`.
 */
import type { TridentConfig } from '../../common/config';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { TridentError } from '../../common/errors';
import { Pipeline } from '../pipeline';
import type { PredictInput, PredictOutput } from '../types';
import type { ModelInfo } from './score';

/**
 * An artifact folder for a `--models` entry. Today: a folder holding manifest.json. Registry
 * versions (`1.1.0`, `production`) resolve here once the model registry exists; until then they
 * fail with UNKNOWN_MODEL, naming a local folder of that version when there is one.
 * Blocks briefly (a few stat calls). Throws TridentError UNKNOWN_MODEL.
 */
export function resolveModel(spec: string, artifactsDir = defaultArtifactsDir()): string {
  const dir = path.resolve(spec);
  if (existsSync(path.join(dir, 'manifest.json'))) return dir;
  if (existsSync(dir) && statSync(dir).isDirectory())
    throw new TridentError(
      'UNKNOWN_MODEL',
      `model ${JSON.stringify(spec)}: folder ${dir} has no manifest.json, so it is not a model artifact`,
    );
  const local = artifactsDir ? folderOfVersion(artifactsDir, spec) : null;
  const hint = local
    ? `; the artifact folder of that version is ${path.relative(process.cwd(), local) || local}`
    : '; pass an artifact folder such as model/artifacts/trident-multitask-1.1.0';
  throw new TridentError(
    'UNKNOWN_MODEL',
    `unknown model ${JSON.stringify(spec)}: it is not an artifact folder, and registry versions (like 1.1.0 or production) need the model registry${hint}`,
  );
}

/** Turns a `--models` spec into an artifact folder. */
export type ModelResolver = (spec: string) => Promise<string>;

/**
 * A folder as it is; anything else (1.1.0, NAME@VERSION, production) through the model registry on
 * the models topic, fetched from the artifact store (model/registry/resolve.ts).
 */
export function registryResolver(config: TridentConfig): ModelResolver {
  return async (spec) => {
    const dir = path.resolve(spec);
    if (existsSync(dir)) return resolveModel(spec);
    const { resolveModelArgument } = await import('../registry/resolve');
    return (await resolveModelArgument(spec, config)).dir;
  };
}

function defaultArtifactsDir(): string | null {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const artifacts = path.join(dir, 'model', 'artifacts');
    if (existsSync(artifacts)) return artifacts;
  }
  return null;
}

function folderOfVersion(artifactsDir: string, version: string): string | null {
  for (const name of readdirSync(artifactsDir)) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(artifactsDir, name, 'manifest.json'), 'utf8')) as { version?: string };
      if (manifest.version === version) return path.join(artifactsDir, name);
    } catch {
      // not an artifact folder
    }
  }
  return null;
}

/** `--models A[,B]`: one or two specs. Throws TridentError CLI_USAGE otherwise. */
export function parseModelSpecs(value: string | undefined): string[] {
  const specs = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (specs.length < 1 || specs.length > 2)
    throw new TridentError('CLI_USAGE', `--models takes one or two models (A or A,B), got ${JSON.stringify(value ?? '')}`);
  return specs;
}

/** One loaded model with what the report needs about it. */
export interface LoadedModel {
  info: ModelInfo;
  name: string;
  version: string;
  artifact: string;
  pipeline: Pipeline;
  /** Seconds spent in the model, and per-event latencies (a chunk's time ÷ its inputs). */
  seconds: number;
  latenciesMs: number[];
  texts: number;
}

export type ModelOutcome = { output: PredictOutput } | { error: { code: string; message: string } };

/** Loads and runs the models of one evaluation. */
export class ModelSet {
  private constructor(readonly models: LoadedModel[]) {}

  /**
   * Resolves and loads each spec (`resolve`: an artifact folder, see resolveModel; registryResolver
   * adds registry versions), then Pipeline.load. Report keys are the manifest versions, made unique.
   */
  static async load(specs: readonly string[], resolve: ModelResolver = async (spec) => resolveModel(spec)): Promise<ModelSet> {
    const models: LoadedModel[] = [];
    try {
      for (const spec of specs) {
        const artifact = await resolve(spec);
        const pipeline = await Pipeline.load(artifact, { batching: 'per-input' });
        const m = pipeline.manifest;
        const categoryHeads = Object.entries(m.heads)
          .filter(([, h]) => h.task === 'categories')
          .map(([name]) => name);
        const labels: Record<string, string[]> = {};
        for (const [name, head] of Object.entries(m.heads)) {
          if (head.task === 'sentiment') labels.sentiment = [...head.labels];
          if (head.task === 'categories') labels[categoryHeads.length === 1 ? 'categories' : `categories:${name}`] = [...head.labels];
        }
        let key = m.version;
        if (models.some((x) => x.info.key === key)) key = `${m.version} (${path.basename(artifact)})`;
        models.push({
          info: { key, labels, categoryHeads },
          name: m.name,
          version: m.version,
          artifact,
          pipeline,
          seconds: 0,
          latenciesMs: [],
          texts: 0,
        });
      }
    } catch (error) {
      await Promise.all(models.map((x) => x.pipeline.close()));
      throw error;
    }
    return new ModelSet(models);
  }

  /**
   * Runs the inputs through every model (all tasks it serves), one model after the other. An input
   * the model rejects (too long, …) gets an error outcome instead of failing the chunk. Does not
   * block (the encoder runs in a worker). Throws what Pipeline.run throws for model failures.
   */
  async predict(inputs: readonly PredictInput[]): Promise<ModelOutcome[][]> {
    const results: ModelOutcome[][] = [];
    for (const model of this.models) {
      const started = performance.now();
      const outcomes = await runIsolating(model.pipeline, inputs);
      const ms = performance.now() - started;
      model.seconds += ms / 1000;
      model.texts += inputs.length;
      for (let i = 0; i < inputs.length; i++) model.latenciesMs.push(ms / Math.max(1, inputs.length));
      results.push(outcomes);
    }
    return results;
  }

  async close(): Promise<void> {
    await Promise.all(this.models.map((m) => m.pipeline.close()));
  }
}

/** Runs a chunk; when it fails on one input's error, splits it until that input is isolated. */
async function runIsolating(pipeline: Pipeline, inputs: readonly PredictInput[]): Promise<ModelOutcome[]> {
  if (inputs.length === 0) return [];
  try {
    return (await pipeline.run(inputs, pipeline.tasks)).map((output) => ({ output }));
  } catch (error) {
    if (!(error instanceof TridentError) || error.retriable) throw error;
    if (inputs.length === 1) return [{ error: { code: error.code, message: error.message } }];
    const mid = Math.ceil(inputs.length / 2);
    return [...(await runIsolating(pipeline, inputs.slice(0, mid))), ...(await runIsolating(pipeline, inputs.slice(mid)))];
  }
}
