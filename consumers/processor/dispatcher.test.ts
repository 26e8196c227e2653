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
