/**
 * The learner's tfjs backend, loaded on first use only: the processor and the gateway never import
 * this module (nor tfjs), so their startup stays free of TensorFlow's 450 MB of native libraries.
 *
 * Order: tfjs-node (`tensorflow`: native TensorFlow, installed by scripts/install-tfjs.js), else
 * @tensorflow/tfjs on the WebAssembly backend (`wasm`: SIMD, one thread; ~2.5× slower), else pure
 * JavaScript (`cpu`; ~15× slower). `TRIDENT_TFJS_BACKEND=tensorflow|wasm|cpu` forces one (the bench
 * and tests); a forced backend that cannot load is an error, not a fallback.
 */
import * as path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { TridentError } from '../../common/errors';
import { trainerErrorCodes } from '../../common/error-codes';

export type Tf = typeof tfjs;
export const tfBackendNames = ['tensorflow', 'wasm', 'cpu'] as const;
export type TfBackendName = (typeof tfBackendNames)[number];

export interface LoadedTf {
  tf: Tf;
  backend: TfBackendName;
  /** Why each faster backend did not load (empty when the first choice loaded or one was forced). */
  fallbacks: string[];
}

/** Requires tfjs-node; its CPU-feature banner is silenced unless the caller chose a log level. */
async function loadNode(): Promise<Tf> {
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  return (await import('@tensorflow/tfjs-node')) as Tf;
}

async function activate(tf: Tf, name: TfBackendName): Promise<LoadedTf> {
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // In Node the .wasm files are read from the package's dist/ folder (the default is a URL).
    const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    wasm.setWasmPaths(dist);
  }
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
  await tf.ready();
  if (tf.getBackend() !== name) throw new Error(`asked for ${name}, got ${tf.getBackend()}`);
  return { tf, backend: name, fallbacks: [] };
}

async function load(name: TfBackendName): Promise<LoadedTf> {
  const tf = name === 'tensorflow' ? await loadNode() : await import('@tensorflow/tfjs');
  return activate(tf, name);
}

const reason = (error: unknown): string => (error instanceof Error ? error.message.split('\n')[0] : String(error));

/** Per request (`auto` or a forced name): loading is done once, the result shared. */
const loaded = new Map<string, Promise<LoadedTf>>();

/**
 * The tf namespace on the best backend that loads (or the forced one); loads once per process and
 * request, and makes the returned backend the active one again if another call switched it (one
 * engine serves all). Async: backend initialisation compiles WebAssembly. Throws TridentError
 * TFJS_BACKEND_UNAVAILABLE when a forced backend cannot load, or when none can.
 */
export async function loadTf(forced: string | undefined = process.env.TRIDENT_TFJS_BACKEND): Promise<LoadedTf> {
  const key = forced === undefined || forced === '' ? 'auto' : forced;
  let loading = loaded.get(key);
  if (!loading) {
    loading = choose(key === 'auto' ? undefined : key);
    loaded.set(key, loading);
  }
  const result = await loading;
  if (result.tf.getBackend() !== result.backend) await result.tf.setBackend(result.backend);
  return result;
}

async function choose(forced: string | undefined): Promise<LoadedTf> {
  if (forced !== undefined) {
    if (!(tfBackendNames as readonly string[]).includes(forced)) {
      throw new TridentError(
        trainerErrorCodes.TFJS_BACKEND_UNAVAILABLE,
        `TRIDENT_TFJS_BACKEND=${forced}: expected one of ${tfBackendNames.join(', ')}`,
      );
    }
    try {
      return await load(forced as TfBackendName);
    } catch (error) {
      throw new TridentError(trainerErrorCodes.TFJS_BACKEND_UNAVAILABLE, `tfjs backend ${forced} (forced) did not load: ${reason(error)}`, {
        cause: error,
      });
    }
  }
  const fallbacks: string[] = [];
  for (const name of tfBackendNames) {
    try {
      const loaded = await load(name);
      return { ...loaded, fallbacks };
    } catch (error) {
      fallbacks.push(`${name}: ${reason(error)}`);
    }
  }
  throw new TridentError(trainerErrorCodes.TFJS_BACKEND_UNAVAILABLE, `no tfjs backend loaded (${fallbacks.join('; ')})`);
}
