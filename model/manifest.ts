import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { ModelArtifactError } from '../common/errors';
import { WINDOW_AGGREGATIONS } from './decode/window-aggregation';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');
const relativeFile = z
  .string()
  .min(1)
  .refine((f) => !path.isAbsolute(f) && !f.split(/[\\/]/).includes('..'), 'must be a path inside the artifact folder');

const layerSchema = z.object({
  weight: z.string(),
  bias: z.string(),
  activation: z.enum(['none', 'tanh', 'relu', 'gelu']),
});

const headBase = {
  file: relativeFile,
  sha256,
  layers: z.array(layerSchema).min(1),
  labels: z.array(z.string()).min(1),
  /** Calibration: the runtime softmaxes logits / temperature (fitted by training/, see model/README.md). Absent: 1. */
  temperature: z.number().positive().finite().optional(),
};

const sequenceHead = z.object({
  ...headBase,
  task: z.enum(['sentiment', 'categories']),
  pooling: z.enum(['cls', 'mean']),
  top_k: z.number().int().positive().optional(),
  /** How a long text's windows combine into one distribution (decode/window-aggregation.ts). Absent: mean-probabilities. */
  window_aggregation: z.enum(WINDOW_AGGREGATIONS).optional(),
});

const entitiesHead = z.object({
  ...headBase,
  task: z.literal('entities'),
  pooling: z.literal('none'),
  aggregation: z.enum(['first', 'average', 'max']),
});

const answersHead = z.object({
  ...headBase,
  task: z.literal('answers'),
  pooling: z.literal('none'),
  labels: z.tuple([z.literal('start'), z.literal('end')]),
  max_answer_tokens: z.number().int().positive(),
  no_answer_threshold: z.number().min(0).max(1),
  max_question_tokens: z.number().int().positive(),
});

const headSchema = z.discriminatedUnion('task', [sequenceHead, entitiesHead, answersHead]);

export const manifestSchema = z
  .object({
    format: z.literal('trident-model/1'),
    name: z.string().min(1),
    version: z.string().regex(/^\d+\.\d+\.\d+([-+].*)?$/, 'must be a semantic version'),
    created: z.string().optional(),
    base_encoder: z.string().optional(),
    tokenizer: z.object({ file: relativeFile, sha256, lowercase: z.boolean().optional() }),
    max_length: z.number().int().min(8),
    stride: z.number().int().min(0),
    encoder: z.object({
      file: relativeFile,
      sha256,
      inputs: z.array(z.string()).min(1),
      outputs: z.array(z.string()).min(1),
      hidden_size: z.number().int().positive(),
      quantization: z.string(),
    }),
    /**
     * How the encoder is quantised and whether its outputs depend on each input alone
     * (`batch_independent`: static, calibrated int8) or on the whole batch tensor (dynamic int8,
     * which scales activations per batch). Absent in artifacts that predate it: dynamic.
     */
    quantization: z.object({ method: z.string().min(1), batch_independent: z.boolean() }).optional(),
    casing: z.object({ input: z.string(), classes: z.number().int().positive() }).nullable().optional(),
    heads: z.record(z.string(), headSchema),
    metrics: z.unknown().optional(),
    training: z.unknown().optional(),
  })
  .superRefine((m, ctx) => {
    if (m.stride >= m.max_length - 2) ctx.addIssue({ code: 'custom', path: ['stride'], message: 'must be below max_length - 2' });
    for (const [name, head] of Object.entries(m.heads)) {
      if (head.task === 'answers' && m.max_length - 3 - head.max_question_tokens <= m.stride) {
        ctx.addIssue({ code: 'custom', path: ['heads', name], message: 'max_length - 3 - max_question_tokens must exceed stride' });
      }
      if ((head.task === 'sentiment' || head.task === 'entities' || head.task === 'answers') && name !== head.task) {
        ctx.addIssue({ code: 'custom', path: ['heads', name], message: `a ${head.task} head must be keyed "${head.task}"` });
      }
    }
    if (m.casing && !m.encoder.inputs.includes(m.casing.input)) {
      ctx.addIssue({ code: 'custom', path: ['casing', 'input'], message: 'must be one of encoder.inputs' });
    }
  });

export type Manifest = z.infer<typeof manifestSchema>;

/** True when the manifest says the encoder's outputs depend on each input alone (absent: dynamic int8, false). */
export function isBatchIndependent(manifest: Pick<Manifest, 'quantization'>): boolean {
  return manifest.quantization?.batch_independent === true;
}
export type HeadSpec = z.infer<typeof headSchema>;

/** A manifest with the folder its file names are relative to. */
export interface LoadedManifest {
  dir: string;
  manifest: Manifest;
}

/** SHA-256 of a file's bytes, hex. Blocks while it reads the file. */
export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * Checks a file named by the manifest exists and has the stated digest; returns its bytes.
 * Blocks while it reads the file. Throws ModelArtifactError naming the file.
 */
export function readVerified(dir: string, file: string, expected: string): Buffer {
  const full = path.join(dir, file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(full);
  } catch (cause) {
    throw new ModelArtifactError(full, 'cannot read file named by manifest.json', { cause });
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== expected) throw new ModelArtifactError(full, `sha256 ${actual} does not match manifest.json (${expected})`);
  return bytes;
}

/**
 * Parses and validates a manifest object (no file access). Throws ModelArtifactError naming
 * `source` with every schema problem listed.
 */
export function parseManifest(raw: unknown, source: string): Manifest {
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ModelArtifactError(source, `invalid manifest: ${problems}`);
  }
  return parsed.data;
}

/**
 * Reads `<dir>/manifest.json` and validates it. Blocks (small file). Digests are checked later,
 * by whoever reads each file (readVerified). Throws ModelArtifactError naming the file.
 */
export function loadManifest(dir: string): LoadedManifest {
  const file = path.join(dir, 'manifest.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new ModelArtifactError(file, `cannot read manifest: ${String(cause)}`, { cause });
  }
  return { dir: path.resolve(dir), manifest: parseManifest(raw, file) };
}
