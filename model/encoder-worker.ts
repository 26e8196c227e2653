/**
 * The inference worker: one ONNX Runtime session in a worker thread, so `session.run` never blocks
 * the main thread. Started by WorkerEncoder (encoder.ts) with `workerData: EncoderWorkerData`.
 *
 * Protocol: the worker answers `{type:'ready', inputNames, outputNames}` or `{type:'fatal', message}`
 * once; then for each `{type:'run', id, feeds, output}` it answers `{type:'result', id, data, dims, ms}`
 * or `{type:'result', id, error}`; `{type:'close'}` releases the session and ends the worker.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { EncoderFeeds } from './encoder';

export interface EncoderWorkerData {
  modelPath: string;
  sessionOptions: ort.InferenceSession.SessionOptions;
}

export type ToWorker = { type: 'run'; id: number; feeds: EncoderFeeds; output: string } | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; inputNames: readonly string[]; outputNames: readonly string[] }
  | { type: 'fatal'; message: string }
  | { type: 'result'; id: number; data: Float32Array; dims: readonly number[]; ms: number }
  | { type: 'result'; id: number; error: string };

type Port = NonNullable<typeof parentPort>;

const describe = (feeds: Record<string, ort.Tensor>): string =>
  Object.entries(feeds)
    .map(([name, t]) => `${name} ${t.type} [${t.dims.join(',')}]`)
    .join(', ');

const messageOf = (error: unknown): string => String((error as Error | undefined)?.message ?? error);

async function serve(port: Port, data: EncoderWorkerData): Promise<void> {
  const send = (msg: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(data.modelPath, data.sessionOptions);
  } catch (error) {
    send({ type: 'fatal', message: messageOf(error) });
    return;
  }
  send({ type: 'ready', inputNames: session.inputNames, outputNames: session.outputNames });

  const handle = async (msg: ToWorker): Promise<void> => {
    if (msg.type === 'close') {
      try {
        await session.release();
      } finally {
        port.close();
      }
      return;
    }
    const feeds: Record<string, ort.Tensor> = {};
    try {
      for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor('int64', t.data, t.dims);
      const started = performance.now();
      const out = await session.run(feeds, [msg.output]);
      const ms = performance.now() - started;
      const tensor = out[msg.output]!;
      // ORT may own the output's memory; copy it once so it can be transferred, not cloned again.
      const result = new Float32Array(tensor.data as Float32Array);
      send({ type: 'result', id: msg.id, data: result, dims: tensor.dims, ms }, [result.buffer]);
    } catch (error) {
      send({ type: 'result', id: msg.id, error: `${messageOf(error)} (feeds: ${describe(feeds)})` });
    }
  };
  // The parent sends the next batch before this one finishes (so no round trip is lost between
  // batches); runs stay strictly one at a time, in arrival order.
  let chain = Promise.resolve();
  port.on('message', (msg: ToWorker) => {
    chain = chain.then(() => handle(msg));
  });
}

if (!isMainThread && parentPort) void serve(parentPort, workerData as EncoderWorkerData);
