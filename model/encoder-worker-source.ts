/**
 * Source of the inference worker, as a string run with `new Worker(source, { eval: true })`.
 * A string (not a .ts/.js file path) so the same code runs from compiled dist/ and under jest on
 * the TypeScript sources; it needs nothing but onnxruntime-node, whose resolved path it receives.
 *
 * Protocol: the worker answers `{type:'ready', inputNames, outputNames}` or `{type:'fatal', message}`
 * once; then for each `{type:'run', id, feeds:{name:{data:BigInt64Array, dims}}, output}` it
 * answers `{type:'result', id, data:Float32Array, dims, ms}` or `{type:'result', id, error}`.
 */
export const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const describe = (feeds) => Object.entries(feeds).map(([n, t]) => n + ' ' + t.type + ' [' + t.dims.join(',') + ']').join(', ');
(async () => {
  let session;
  try {
    session = await ort.InferenceSession.create(workerData.modelPath, workerData.sessionOptions);
  } catch (e) {
    parentPort.postMessage({ type: 'fatal', message: String((e && e.message) || e) });
    return;
  }
  parentPort.postMessage({ type: 'ready', inputNames: session.inputNames, outputNames: session.outputNames });
  // The parent sends the next batch before this one finishes (so no round trip is lost between
  // batches); runs stay strictly one at a time, in arrival order.
  let chain = Promise.resolve();
  parentPort.on('message', (msg) => {
    chain = chain.then(() => handle(msg));
  });
  const handle = async (msg) => {
    if (msg.type === 'close') {
      try { await session.release(); } finally { parentPort.close(); }
      return;
    }
    const feeds = {};
    try {
      for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor('int64', t.data, t.dims);
      const started = performance.now();
      const out = await session.run(feeds, [msg.output]);
      const ms = performance.now() - started;
      const tensor = out[msg.output];
      // ORT may own the output's memory; copy it once so it can be transferred, not cloned again.
      const data = new Float32Array(tensor.data);
      parentPort.postMessage({ type: 'result', id: msg.id, data, dims: tensor.dims, ms }, [data.buffer]);
    } catch (e) {
      parentPort.postMessage({ type: 'result', id: msg.id, error: String((e && e.message) || e) + ' (feeds: ' + describe(feeds) + ')' });
    }
  };
})();
`;
