import { InferenceStep, fixedModel, type InferenceItem, type RunModel } from './inference';
import { InvalidInputError, TridentError } from '../../common/errors';

const MODEL = { name: 'm', version: '1.0.0' };
const item = (id: string, tasks: InferenceItem['tasks'] = ['sentiment'], questions: string[] = []): InferenceItem => ({
  id,
  text: `text ${id}`,
  questions,
  tasks,
});

/** A model stand-in: answers every requested task, fails on any batch holding a "poison" id. */
function fakeModel(calls: Array<{ ids: string[]; tasks: string[]; questions: Array<string[] | undefined> }>): RunModel {
  return async (inputs, tasks) => {
    calls.push({ ids: inputs.map((i) => i.id), tasks: [...tasks], questions: inputs.map((i) => i.questions) });
    const poison = inputs.find((i) => i.id.startsWith('poison'));
    if (poison) throw new InvalidInputError('INPUT_EMPTY_TEXT', poison.id, 'cannot');
    return inputs.map((i) => ({
      id: i.id,
      sentiment: { label: 'positive', scores: { positive: 1 } },
      entities: [],
      answers: [],
      categories: {},
    }));
  };
}

describe('InferenceStep', () => {
  it('runs one pass for the batch with the union of tasks, and keeps each event’s own tasks', async () => {
    const calls: Parameters<typeof fakeModel>[0] = [];
    const step = new InferenceStep(fixedModel(fakeModel(calls), MODEL), 1);
    const outcomes = await step.infer([
      item('a', ['sentiment']),
      item('b', ['entities', 'answers'], ['Who?']),
      item('c', ['sentiment'], ['ignored?']),
    ]);
    expect(calls).toEqual([
      { ids: ['a', 'b', 'c'], tasks: ['sentiment', 'entities', 'answers'], questions: [undefined, ['Who?'], undefined] },
    ]);
    expect(outcomes).toEqual([
      { ok: true, output: { id: 'a', sentiment: { label: 'positive', scores: { positive: 1 } } }, model: MODEL },
      { ok: true, output: { id: 'b', entities: [], answers: [] }, model: MODEL },
      { ok: true, output: { id: 'c', sentiment: { label: 'positive', scores: { positive: 1 } } }, model: MODEL },
    ]);
  });

  it('isolates the event that fails a batch by splitting; only it fails', async () => {
    const calls: Parameters<typeof fakeModel>[0] = [];
    const step = new InferenceStep(fixedModel(fakeModel(calls), MODEL), 1);
    const outcomes = await step.infer(['a', 'b', 'poison-c', 'd', 'e'].map((id) => item(id)));
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, false, true, true]);
    expect(outcomes[2]).toEqual({ ok: false, code: 'INPUT_EMPTY_TEXT', reason: expect.stringContaining('poison-c') });
    expect(calls.length).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(5)) + 1);
  });

  it('passes retriable errors up instead of dead-lettering', async () => {
    const step = new InferenceStep(
      fixedModel(async () => {
        throw new TridentError('MODEL_ENCODER_BUSY', 'busy', { retriable: true });
      }, MODEL),
      1,
    );
    await expect(step.infer([item('a'), item('b')])).rejects.toMatchObject({ code: 'MODEL_ENCODER_BUSY' });
  });

  it('caps runs in flight', async () => {
    let running = 0;
    let peak = 0;
    const step = new InferenceStep(
      fixedModel(async (inputs) => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running -= 1;
        return inputs.map((i) => ({ id: i.id }));
      }, MODEL),
      2,
    );
    await Promise.all(Array.from({ length: 6 }, (_, i) => step.infer([item(String(i))])));
    expect(peak).toBe(2);
  });

  it('runs a batch, and every split of it, on the model leased when it started; releases it after', async () => {
    const leases: string[] = [];
    let version = '1';
    const acquire = () => {
      const v = version;
      leases.push(`acquire ${v}`);
      const run: RunModel = async (inputs, tasks) => {
        await new Promise((r) => setTimeout(r, 5));
        return fakeModel([])(inputs, tasks);
      };
      return { identity: { name: 'm', version: v }, run, release: () => leases.push(`release ${v}`) };
    };
    const step = new InferenceStep(acquire, 1);
    const first = step.infer(['a', 'poison-b', 'c'].map((id) => item(id)));
    const second = step.infer([item('d')]); // waits for the first (one run at a time)
    while (leases.length === 0) await new Promise((r) => setImmediate(r));
    version = '2'; // a swap while the first batch runs
    const outcomes = [...(await first), ...(await second)];
    expect(outcomes.map((o) => (o.ok ? o.model.version : 'failed'))).toEqual(['1', 'failed', '1', '2']);
    expect(leases).toEqual(['acquire 1', 'release 1', 'acquire 2', 'release 2']);
  });
});
