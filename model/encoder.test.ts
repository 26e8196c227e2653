import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ModelArtifactError, TridentError } from '../common/errors';
import { EncoderFeeds, EncoderPool, WorkerEncoder, openEncoder } from './encoder';
import { TEST_ARTIFACT } from './testing';

const file = path.join(TEST_ARTIFACT, 'encoder.onnx');

function feeds(batch: number, seq: number, names = ['input_ids', 'attention_mask', 'token_type_ids', 'case_ids']): EncoderFeeds {
  const out: EncoderFeeds = {};
  for (const name of names)
    out[name] = { data: new BigInt64Array(batch * seq).fill(name === 'attention_mask' ? 1n : 0n), dims: [batch, seq] };
  out.input_ids.data.fill(1000n);
  return out;
}

describe('WorkerEncoder', () => {
  let encoder: WorkerEncoder;
  beforeAll(async () => {
    encoder = await WorkerEncoder.open(file, { maxQueued: 2 });
  });
  afterAll(async () => {
    await encoder.close();
  });

  it('reports the session input and output names', () => {
    expect([...encoder.inputNames].sort()).toEqual(['attention_mask', 'case_ids', 'input_ids', 'token_type_ids']);
    expect(encoder.outputNames).toContain('last_hidden_state');
  });

  it('returns [batch, seq, hidden] float32', async () => {
    // (InlineEncoder is not compared here: under jest's VM realm ORT rejects its own output arrays.)
    const out = await encoder.run(feeds(2, 5), 'last_hidden_state');
    expect(out.dims).toEqual([2, 5, 32]);
    expect(out.data).toHaveLength(2 * 5 * 32);
    expect(out.data.every(Number.isFinite)).toBe(true);
    // Same input twice in a batch → the same hidden states for both rows.
    expect(Array.from(out.data.subarray(0, 160))).toEqual(Array.from(out.data.subarray(160)));
  });

  it('names each tensor with its type and shape when ONNX Runtime fails', async () => {
    const bad = feeds(1, 3, ['input_ids', 'attention_mask', 'token_type_ids']); // case_ids missing
    await expect(encoder.run(bad, 'last_hidden_state')).rejects.toThrow(/MODEL|input_ids int64 \[1,3\]/);
    await expect(encoder.run(feeds(1, 3, ['input_ids', 'attention_mask', 'token_type_ids']), 'last_hidden_state')).rejects.toMatchObject({
      code: 'MODEL_INFERENCE_FAILED',
    });
  });

  it('rejects beyond maxQueued with a retriable MODEL_ENCODER_BUSY, and still serves the others', async () => {
    const runs = [0, 1, 2].map(() =>
      encoder.run(feeds(1, 4), 'last_hidden_state').then(
        () => 'ok',
        (e: TridentError) => e.code,
      ),
    );
    expect(await Promise.all(runs)).toEqual(['ok', 'ok', 'MODEL_ENCODER_BUSY']);
  });

  it('names the file it cannot load', async () => {
    await expect(WorkerEncoder.open(path.join(TEST_ARTIFACT, 'manifest.json'))).rejects.toThrow(ModelArtifactError);
  });
});

describe('WorkerEncoder from the compiled build', () => {
  // Jest runs the TypeScript sources (the worker starts through model/ts-worker.js); production runs
  // dist/, where the worker is dist/model/encoder-worker.js. `npm test` builds before jest.
  const compiled = path.join(__dirname, '..', 'dist', 'model', 'encoder.js');
  (existsSync(compiled) ? it : it.skip)('starts the compiled worker and runs a batch', () => {
    const script = `
      const { WorkerEncoder } = require(${JSON.stringify(compiled)});
      WorkerEncoder.open(${JSON.stringify(file)}).then(async (encoder) => {
        const feeds = {};
        for (const name of encoder.inputNames) feeds[name] = { data: new BigInt64Array(6).fill(name === 'attention_mask' ? 1n : 0n), dims: [2, 3] };
        const out = await encoder.run(feeds, 'last_hidden_state');
        console.log(JSON.stringify(out.dims));
        await encoder.close();
      });`;
    expect(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim()).toBe('[2,3,32]');
  });
});

describe('EncoderPool', () => {
  it('runs batches on every session and returns what one session returns', async () => {
    const single = await WorkerEncoder.open(file);
    const pool = await EncoderPool.open(file, 2, { threads: 1 });
    try {
      expect(pool.inputNames).toEqual(single.inputNames);
      const shapes = [3, 5, 8, 13, 21, 34];
      const pending = shapes.map((seq) => pool.run(feeds(2, seq), 'last_hidden_state'));
      // Handed out in turn to the least busy session: both hold work at once.
      expect(pool.inFlight.every((n) => n > 0)).toBe(true);
      const fromPool = await Promise.all(pending);
      for (const [i, seq] of shapes.entries()) {
        const alone = await single.run(feeds(2, seq), 'last_hidden_state');
        expect(fromPool[i]!.dims).toEqual(alone.dims);
        expect(fromPool[i]!.data).toEqual(alone.data);
      }
    } finally {
      await pool.close();
      await single.close();
    }
  });

  it('openEncoder gives one worker by default and a pool for sessions > 1', async () => {
    const one = await openEncoder(file);
    const two = await openEncoder(file, { sessions: 2 });
    try {
      expect(one).toBeInstanceOf(WorkerEncoder);
      expect(two).toBeInstanceOf(EncoderPool);
      expect((two as EncoderPool).inFlight).toHaveLength(2);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('names the file when a session cannot load it', async () => {
    await expect(EncoderPool.open(path.join(TEST_ARTIFACT, 'tokenizer.json'), 2)).rejects.toBeInstanceOf(ModelArtifactError);
  });
});
