import { InferenceStep, type InferenceItem, type RunModel } from './inference';
import { InvalidInputError, TridentError } from '../../common/errors';

const item = (id: string, tasks: InferenceItem['tasks'] = ['sentiment'], questions: string[] = []): InferenceItem => ({ id, text: `text ${id}`, questions, tasks });

/** A model stand-in: answers every requested task, fails on any batch holding a "poison" id. */
function fakeModel(calls: Array<{ ids: string[]; tasks: string[]; questions: Array<string[] | undefined> }>): RunModel {
  return async (inputs, tasks) => {
    calls.push({ ids: inputs.map((i) => i.id), tasks: [...tasks], questions: inputs.map((i) => i.questions) });
    const poison = inputs.find((i) => i.id.startsWith('poison'));
    if (poison) throw new InvalidInputError('INPUT_EMPTY_TEXT', poison.id, 'cannot');
    return inputs.map((i) => ({ id: i.id, sentiment: { label: 'positive', scores: { positive: 1 } }, entities: [], answers: [], categories: {} }));
  };
}

describe('InferenceStep', () => {
  it('runs one pass for the batch with the union of tasks, and keeps each event’s own tasks', async () => {
    const calls: Parameters<typeof fakeModel>[0] = [];
    const step = new InferenceStep(fakeModel(calls), 1);
    const outcomes = await step.infer([item('a', ['sentiment']), item('b', ['entities', 'answers'], ['Who?']), item('c', ['sentiment'], ['ignored?'])]);
    expect(calls).toEqual([{ ids: ['a', 'b', 'c'], tasks: ['sentiment', 'entities', 'answers'], questions: [undefined, ['Who?'], undefined] }]);
    expect(outcomes).toEqual([
      { ok: true, output: { id: 'a', sentiment: { label: 'positive', scores: { positive: 1 } } } },
      { ok: true, output: { id: 'b', entities: [], answers: [] } },
      { ok: true, output: { id: 'c', sentiment: { label: 'positive', scores: { positive: 1 } } } },
    ]);
  });

  it('isolates the event that fails a batch by splitting; only it fails', async () => {
    const calls: Parameters<typeof fakeModel>[0] = [];
    const step = new InferenceStep(fakeModel(calls), 1);
    const outcomes = await step.infer(['a', 'b', 'poison-c', 'd', 'e'].map((id) => item(id)));
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, false, true, true]);
    expect(outcomes[2]).toEqual({ ok: false, code: 'INPUT_EMPTY_TEXT', reason: expect.stringContaining('poison-c') });
    expect(calls.length).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(5)) + 1);
  });

  it('passes retriable errors up instead of dead-lettering', async () => {
    const step = new InferenceStep(async () => {
      throw new TridentError('MODEL_ENCODER_BUSY', 'busy', { retriable: true });
    }, 1);
    await expect(step.infer([item('a'), item('b')])).rejects.toMatchObject({ code: 'MODEL_ENCODER_BUSY' });
  });

  it('caps runs in flight', async () => {
    let running = 0;
    let peak = 0;
    const step = new InferenceStep(async (inputs) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running -= 1;
      return inputs.map((i) => ({ id: i.id }));
    }, 2);
    await Promise.all(Array.from({ length: 6 }, (_, i) => step.infer([item(String(i))])));
    expect(peak).toBe(2);
  });
});
