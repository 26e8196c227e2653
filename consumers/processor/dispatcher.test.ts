import type { PredictOutput } from '../../model/types';
import { Dispatcher } from './dispatcher';
import { fixedModel, InferenceStep, type RunModel } from './inference';

const identity = { name: 'test', version: '0.0.0' };

describe('Dispatcher fairness', () => {
  it('an event costlier than a micro-batch runs in its own lane: two of them never hold up the other partitions', async () => {
    const released: Array<() => void> = [];
    const finished: string[] = [];
    // Heavy events take until the test releases them; light ones answer at once.
    const run: RunModel = async (inputs) => {
      if (inputs.some((i) => i.id.startsWith('heavy'))) await new Promise<void>((r) => released.push(r));
      finished.push(...inputs.map((i) => i.id));
      return inputs.map((i) => ({ id: i.id }) as PredictOutput);
    };
    const dispatcher = new Dispatcher(
      { maxEvents: 4, maxWaitMs: 0, maxTokens: 100 },
      new InferenceStep(fixedModel(run, identity), 2),
      undefined,
      new InferenceStep(fixedModel(run, identity), 1),
    );
    const item = (id: string) => ({ id, text: 'x', questions: [], tasks: ['sentiment' as const] });
    const heavy = [dispatcher.submit(item('heavy-1'), 5000), dispatcher.submit(item('heavy-2'), 5000)];
    const light = Array.from({ length: 6 }, (_, i) => dispatcher.submit(item(`light-${i}`), 10));
    await Promise.all(light);
    expect(finished).toEqual(['light-0', 'light-1', 'light-2', 'light-3', 'light-4', 'light-5']);
    released.shift()!();
    await new Promise((r) => setImmediate(r));
    released.shift()!();
    await Promise.all(heavy);
    expect(finished.slice(6)).toEqual(['heavy-1', 'heavy-2']);
    dispatcher.close();
  });
});

describe('Dispatcher with adaptiveWait', () => {
  it('runs an event at once on an idle encoder, batches what arrives meanwhile, and sends it when the encoder frees up', async () => {
    const calls: string[][] = [];
    let release!: () => void;
    const first = new Promise<void>((r) => (release = r));
    const run: RunModel = async (inputs) => {
      calls.push(inputs.map((i) => i.id));
      if (calls.length === 1) await first;
      return inputs.map((i) => ({ id: i.id }) as PredictOutput);
    };
    // A 60 s wait: any batch that runs before the test ends was sent by the adaptive rule, not the timer.
    const dispatcher = new Dispatcher(
      { maxEvents: 32, maxWaitMs: 60_000, maxTokens: 10_000, adaptiveWait: true },
      new InferenceStep(fixedModel(run, identity), 2),
    );
    const item = (id: string) => ({ id, text: 'x', questions: [], tasks: ['sentiment' as const] });
    const a = dispatcher.submit(item('a'), 10);
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([['a']]);
    const rest = [dispatcher.submit(item('b'), 10), dispatcher.submit(item('c'), 10)];
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([['a']]); // busy: b and c wait for more
    release();
    await Promise.all([a, ...rest]);
    expect(calls).toEqual([['a'], ['b', 'c']]);
    dispatcher.close();
  });
});
