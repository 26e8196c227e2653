import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { modelConfigFromEnv } from '../common/config';
import { ModelArtifactError, TridentError } from '../common/errors';
import { modelErrorCodes } from '../common/error-codes';
import type { EncoderWorkerData, FromWorker, ToWorker } from './encoder-worker';

/** int64 inputs of one batch, by input name: data is `[batch × seq]` row-major. */
export type EncoderFeeds = Record<string, { data: BigInt64Array; dims: [number, number] }>;

/** The requested output: float32 `[batch × seq × hidden]`, plus how long `session.run` took. */
export interface EncoderOutput {
  data: Float32Array;
  dims: readonly number[];
  ms: number;
}

/** A loaded encoder session. */
export interface Encoder {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs one batch; see each implementation for blocking behaviour. */
  run(feeds: EncoderFeeds, output: string): Promise<EncoderOutput>;
  close(): Promise<void>;
}

export interface EncoderOptions {
  /** ORT intra-op threads per session; default: the number of CPU cores ÷ `sessions` (at least 1). */
  threads?: number;
  /** Encoder sessions, each in its own worker thread (`openEncoder`); default 1. */
  sessions?: number;
  /** Batches waiting or running before `run` rejects with MODEL_ENCODER_BUSY; default 64. */
  maxQueued?: number;
  /** Let ORT's threads busy-wait between ops (lower latency on an idle machine). Default: the config's `model.ortSpinning` from the environment (off; $TRIDENT_ORT_SPINNING=1). */
  spinning?: boolean;
}

/**
 * Starts encoder-worker: the compiled `encoder-worker.js` beside this file; from the TypeScript
 * sources (jest), `encoder-worker.ts` through the ts-worker.js loader.
 */
function startWorker(workerData: EncoderWorkerData): Worker {
  const compiled = path.join(__dirname, 'encoder-worker.js');
  if (existsSync(compiled)) return new Worker(compiled, { workerData });
  const source = path.join(__dirname, 'encoder-worker.ts');
  if (existsSync(source)) return new Worker(path.join(__dirname, 'ts-worker.js'), { argv: [source], workerData });
  throw new TridentError(modelErrorCodes.MODEL_WORKER_MISSING, `${compiled} is missing; run \`npm run build\``);
}

function sessionOptions(options: EncoderOptions): Record<string, unknown> {
  const spinning = options.spinning ?? modelConfigFromEnv().ortSpinning;
  return {
    intraOpNumThreads: options.threads ?? Math.max(1, Math.floor(os.cpus().length / Math.max(1, options.sessions ?? 1))),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // ORT's pool threads busy-wait between ops by default; on 2 cores shared with the event loop,
    // the heads and the Kafka client, that steals the CPU they need (measured: encoder-only
    // 150 → 200 texts/s, pipeline ÷ encoder 0.66–0.91 → 0.98–1.0 with spinning off).
    extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } },
  };
}

function describeFeeds(feeds: EncoderFeeds): string {
  return Object.entries(feeds)
    .map(([name, t]) => `${name} int64 [${t.dims.join(',')}]`)
    .join(', ');
}

/** Batches handed to the worker ahead of time, so it starts the next one without a round trip. */
const PREFETCH = 2;

interface Job {
  id: number;
  feeds: EncoderFeeds;
  output: string;
  resolve: (out: EncoderOutput) => void;
  reject: (error: Error) => void;
}

/**
 * The ONNX session in a worker thread, so `session.run` never blocks the event loop (measured:
 * 1.8 s stalls on the main thread, 12–27 ms worst gaps with a worker). Batches run one at a time in
 * arrival order (two are handed over ahead, so the worker never waits on a round trip); at most
 * `maxQueued` wait or run, beyond that `run` rejects with a retriable
 * `MODEL_ENCODER_BUSY` error (backpressure, never an unbounded queue).
 */
export class WorkerEncoder implements Encoder {
  private readonly queue: Job[] = [];
  /** Jobs handed to the worker (it runs them one at a time, in order); at most PREFETCH. */
  private readonly sent = new Map<number, Job>();
  private nextId = 0;
  private failure: Error | null = null;

  private constructor(
    private readonly worker: Worker,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
    private readonly maxQueued: number,
    private readonly file: string,
  ) {
    worker.on('message', (msg: FromWorker) => {
      const job = msg.type === 'result' ? this.sent.get(msg.id) : undefined;
      if (!job || msg.type !== 'result') return;
      this.sent.delete(msg.id);
      if ('error' in msg) {
        job.reject(new TridentError(modelErrorCodes.MODEL_INFERENCE_FAILED, `${this.file}: ${msg.error}`));
      } else {
        job.resolve({ data: msg.data, dims: msg.dims, ms: msg.ms });
      }
      this.pump();
    });
    const die = (error: Error): void => {
      if (this.failure) return;
      this.failure = new TridentError(modelErrorCodes.MODEL_WORKER_DIED, `${this.file}: inference worker stopped: ${error.message}`, {
        cause: error,
      });
      for (const job of [...this.sent.values(), ...this.queue.splice(0)]) job.reject(this.failure);
      this.sent.clear();
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`exit code ${code}`)));
    worker.unref();
  }

  /**
   * Starts the worker and loads `file` in it. Does not block; resolves once the session is ready.
   * Throws ModelArtifactError naming the file when ONNX Runtime cannot load it.
   */
  static async open(file: string, options: EncoderOptions = {}): Promise<WorkerEncoder> {
    const worker = startWorker({ modelPath: file, sessionOptions: sessionOptions(options) });
    const ready = await new Promise<{ inputNames: readonly string[]; outputNames: readonly string[] }>((resolve, reject) => {
      const onMessage = (msg: FromWorker): void => {
        worker.off('error', reject);
        if (msg.type === 'ready') resolve(msg);
        else reject(new ModelArtifactError(file, `ONNX Runtime cannot load the encoder: ${msg.type === 'fatal' ? msg.message : msg.type}`));
      };
      worker.once('message', onMessage);
      worker.once('error', reject);
    }).catch(async (error: unknown) => {
      await worker.terminate();
      throw error instanceof ModelArtifactError
        ? error
        : new ModelArtifactError(file, `inference worker failed: ${String(error)}`, { cause: error });
    });
    return new WorkerEncoder(worker, ready.inputNames, ready.outputNames, options.maxQueued ?? 64, file);
  }

  /**
   * Queues one batch; resolves with the output. Does not block the event loop (the buffers of
   * `feeds` are transferred to the worker and must not be reused). Throws TridentError
   * MODEL_ENCODER_BUSY (retriable) when the queue is full, MODEL_INFERENCE_FAILED with each
   * tensor's shape and type when ONNX Runtime fails, MODEL_WORKER_DIED after a worker crash.
   */
  run(feeds: EncoderFeeds, output: string): Promise<EncoderOutput> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.inFlight >= this.maxQueued) {
      return Promise.reject(
        new TridentError(modelErrorCodes.MODEL_ENCODER_BUSY, `encoder has ${this.maxQueued} batches in flight (${describeFeeds(feeds)})`, {
          retriable: true,
        }),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, feeds, output, resolve, reject });
      this.pump();
    });
  }

  /** Batches waiting or running. */
  get inFlight(): number {
    return this.queue.length + this.sent.size;
  }

  private pump(): void {
    while (this.sent.size < PREFETCH && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.sent.set(job.id, job);
      const transfer = Object.values(job.feeds).map((t) => t.data.buffer as ArrayBuffer);
      const run: ToWorker = { type: 'run', id: job.id, feeds: job.feeds, output: job.output };
      this.worker.postMessage(run, transfer);
    }
    // Keep the process alive only while the worker has work.
    if (this.sent.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  /** Releases the session and stops the worker; pending batches are rejected. */
  async close(): Promise<void> {
    if (this.failure) return;
    this.failure = new TridentError(modelErrorCodes.MODEL_CLOSED, `${this.file}: encoder closed`);
    for (const job of [...this.sent.values(), ...this.queue.splice(0)]) job.reject(this.failure);
    this.sent.clear();
    await this.worker.terminate();
  }
}

/**
 * Several encoder sessions, each in its own worker thread, each batch to the one with the fewest
 * batches waiting. Why: with `per-input` batching the encoder runs one input's rows at a time,
 * matrices too small for ORT's intra-op threads to share, so one session with a thread per core
 * keeps about one core busy; one single-threaded session per core runs such batches side by side
 * (bench/encoder-throughput.ts, 2 cores, trident-multitask-1.1.0: batch 1 2.0×, batch 32 1.08×).
 * Costs one more copy of the session's memory per session.
 */
export class EncoderPool implements Encoder {
  private constructor(private readonly sessions: readonly WorkerEncoder[]) {}

  /** Opens `count` sessions of `file`; if any fails to load, closes the others and throws its error. */
  static async open(file: string, count: number, options: EncoderOptions = {}): Promise<EncoderPool> {
    const opened = await Promise.allSettled(Array.from({ length: count }, () => WorkerEncoder.open(file, options)));
    const sessions = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all(sessions.map((session) => session.close()));
      throw failed.reason;
    }
    return new EncoderPool(sessions);
  }

  get inputNames(): readonly string[] {
    return this.sessions[0]!.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.sessions[0]!.outputNames;
  }

  /** Batches waiting or running, per session. */
  get inFlight(): number[] {
    return this.sessions.map((session) => session.inFlight);
  }

  /** Runs the batch on the least busy session (errors as `WorkerEncoder.run`). */
  run(feeds: EncoderFeeds, output: string): Promise<EncoderOutput> {
    let best = this.sessions[0]!;
    for (const session of this.sessions) if (session.inFlight < best.inFlight) best = session;
    return best.run(feeds, output);
  }

  async close(): Promise<void> {
    await Promise.all(this.sessions.map((session) => session.close()));
  }
}

/** One session in a worker (`sessions` ≤ 1, the default) or a pool of `sessions`. */
export function openEncoder(file: string, options: EncoderOptions = {}): Promise<Encoder> {
  const sessions = options.sessions ?? 1;
  return sessions > 1 ? EncoderPool.open(file, sessions, options) : WorkerEncoder.open(file, options);
}

/**
 * The ONNX session on the calling thread. `run` BLOCKS the event loop for the whole inference;
 * only for benchmarks (baseline) and tools that have nothing else to serve.
 */
export class InlineEncoder implements Encoder {
  private constructor(
    private readonly session: import('onnxruntime-node').InferenceSession,
    private readonly ort: typeof import('onnxruntime-node'),
  ) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Loads `file`. Throws ModelArtifactError naming the file. */
  static async open(file: string, options: EncoderOptions = {}): Promise<InlineEncoder> {
    const ort = (await import('onnxruntime-node')) as typeof import('onnxruntime-node');
    try {
      const session = await ort.InferenceSession.create(file, sessionOptions(options));
      return new InlineEncoder(session, ort);
    } catch (cause) {
      throw new ModelArtifactError(file, `ONNX Runtime cannot load the encoder: ${String(cause)}`, { cause });
    }
  }

  async run(feeds: EncoderFeeds, output: string): Promise<EncoderOutput> {
    const tensors: Record<string, import('onnxruntime-node').Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) tensors[name] = new this.ort.Tensor('int64', t.data, t.dims);
    const started = performance.now();
    try {
      const out = await this.session.run(tensors, [output]);
      const tensor = out[output];
      return { data: tensor.data as Float32Array, dims: tensor.dims, ms: performance.now() - started };
    } catch (cause) {
      throw new TridentError(modelErrorCodes.MODEL_INFERENCE_FAILED, `${String(cause)} (feeds: ${describeFeeds(feeds)})`, { cause });
    }
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
