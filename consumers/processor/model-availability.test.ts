import { TridentError } from '../../common/errors';
import type { PredictOutput } from '../../model/types';
import { ModelAvailability, ModelUnavailableError, isModelUnavailable, type LoadedModel } from './model-availability';

const died = () => new TridentError('MODEL_WORKER_DIED', 'model.onnx: inference worker stopped: exit code 1');

function fakeModel(name: string, behaviour: { dies?: boolean; failsWith?: Error } = {}): LoadedModel & { closed: boolean } {
  return {
    closed: false,
    async run(inputs) {
      if (behaviour.dies) throw died();
      if (behaviour.failsWith) throw behaviour.failsWith;
      return inputs.map((i) => ({ id: `${name}:${i.id}` }) as PredictOutput);
    },
    async close() {
      this.closed = true;
    },
  };
}

/** A manual clock: timers fire when the test says so. */
function manualTimers() {
  const pending: Array<{ fn: () => void; ms: number }> = [];
  return {
    pending,
    setTimer: (fn: () => void, ms: number) => pending.push({ fn, ms }),
    clearTimer: () => pending.splice(0),
    fire: async () => {
      const next = pending.shift()!;
      next.fn();
      await new Promise((r) => setImmediate(r));
      return next.ms;
    },
  };
}

describe('ModelAvailability', () => {
  it('restarts a dead worker with backoff; meanwhile runs fail retriably and nothing is the input’s fault', async () => {
    const timers = manualTimers();
    const first = fakeModel('a', { dies: true });
    const loads = [Promise.reject(new Error('worker failed to start')), Promise.resolve(fakeModel('b'))];
    const states: string[] = [];
    const availability = new ModelAvailability(first, () => loads.shift()!, {
      ...timers,
      baseDelayMs: 100,
      onStateChange: (s) => states.push(s.state),
    });

    const failure = await availability.run([{ id: '1', text: 'x' }], ['sentiment']).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ModelUnavailableError);
    expect(failure).toMatchObject({ code: 'MODEL_UNAVAILABLE', retriable: true });
    expect(isModelUnavailable(failure)).toBe(true);
    expect(availability.status.state).toBe('restarting');
    expect(first.closed).toBe(true);
    await expect(availability.run([{ id: '2', text: 'x' }], ['sentiment'])).rejects.toMatchObject({ code: 'MODEL_UNAVAILABLE' });

    expect(await timers.fire()).toBe(100); // first reload fails …
    expect(availability.status).toMatchObject({ state: 'restarting', lastError: expect.stringContaining('reload 1 failed') });
    expect(await timers.fire()).toBe(200); // … the second, after a longer wait, succeeds
    expect(availability.status).toMatchObject({ state: 'ready', restarts: 1 });
    await expect(availability.run([{ id: '3', text: 'x' }], ['sentiment'])).resolves.toEqual([{ id: 'b:3' }]);
    expect(states).toEqual(['restarting', 'restarting', 'ready']);
  });

  it('passes an input’s own error through (it may be dead-lettered) and stays ready', async () => {
    const bad = new TridentError('INPUT_TOO_LONG', 'too long');
    const availability = new ModelAvailability(fakeModel('a', { failsWith: bad }), async () => fakeModel('b'));
    await expect(availability.run([{ id: '1', text: 'x' }], ['sentiment'])).rejects.toBe(bad);
    expect(availability.status.state).toBe('ready');
  });

  it('after close, runs fail as unavailable (not MODEL_CLOSED dead letters) and no reload happens', async () => {
    const timers = manualTimers();
    const availability = new ModelAvailability(fakeModel('a', { dies: true }), async () => fakeModel('b'), timers);
    await availability.run([{ id: '1', text: 'x' }], ['sentiment']).catch(() => undefined);
    await availability.close();
    expect(timers.pending).toHaveLength(0);
    await expect(availability.run([{ id: '1', text: 'x' }], ['sentiment'])).rejects.toMatchObject({
      code: 'MODEL_UNAVAILABLE',
      state: 'closed',
    });
  });
});
