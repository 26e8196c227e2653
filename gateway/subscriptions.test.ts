import { matches, SubscriptionSet, toFilter } from './subscriptions';

const r = (id: string, key: string | null = null) => ({ id, key });

describe('subscription matching', () => {
  it.each([
    ['all tasks by default', {}, 'answers', r('a'), false, true],
    ['a task not asked for', { tasks: ['sentiment'] as const }, 'entities', r('a'), false, false],
    ['a task asked for', { tasks: ['sentiment', 'entities'] as const }, 'entities', r('a'), false, true],
    ['a key asked for', { keys: ['k1', 'k2'] }, 'sentiment', r('a', 'k2'), false, true],
    ['another key', { keys: ['k1'] }, 'sentiment', r('a', 'k3'), false, false],
    ['no key when keys are asked for', { keys: ['k1'] }, 'sentiment', r('a', null), false, false],
    ['an id asked for', { ids: ['a'] }, 'sentiment', r('a'), false, true],
    ['another id', { ids: ['a'] }, 'sentiment', r('b'), false, false],
    ['own only, own result', { own: true }, 'sentiment', r('a'), true, true],
    ['own only, foreign result', { own: true }, 'sentiment', r('a'), false, false],
    ['all narrowings together', { tasks: ['entities'] as const, keys: ['k'], ids: ['a'], own: true }, 'entities', r('a', 'k'), true, true],
    ['all but the task', { tasks: ['entities'] as const, keys: ['k'], ids: ['a'], own: true }, 'sentiment', r('a', 'k'), true, false],
  ] as const)('%s', (_name, spec, task, result, own, expected) => {
    expect(matches(toFilter(spec as never), task, result, own)).toBe(expected);
  });
});

describe('SubscriptionSet', () => {
  it('assigns ids, refuses duplicates and more than the limit, and removes', () => {
    const set = new SubscriptionSet(2);
    expect(set.add(toFilter({ tasks: ['sentiment'] }))).toEqual({ ok: true, id: 's1' });
    expect(set.add(toFilter({}), 's1')).toEqual({ ok: false, reason: 'duplicate' });
    expect(set.add(toFilter({ tasks: ['answers'] }), 'mine')).toEqual({ ok: true, id: 'mine' });
    expect(set.add(toFilter({}))).toEqual({ ok: false, reason: 'limit' });
    expect([...set.tasks()].sort()).toEqual(['answers', 'sentiment']);
    expect(set.remove('s1')).toBe(true);
    expect(set.remove('s1')).toBe(false);
    expect([...set.tasks()]).toEqual(['answers']);
    expect(set.size).toBe(1);
  });

  it('wants a result when any subscription matches', () => {
    const set = new SubscriptionSet(4);
    set.add(toFilter({ tasks: ['sentiment'], keys: ['k1'] }));
    set.add(toFilter({ tasks: ['entities'], own: true }));
    expect(set.wants('sentiment', r('x', 'k1'), false)).toBe(true);
    expect(set.wants('sentiment', r('x', 'k2'), false)).toBe(false);
    expect(set.wants('entities', r('x'), true)).toBe(true);
    expect(set.wants('entities', r('x'), false)).toBe(false);
    expect(set.wants('answers', r('x', 'k1'), true)).toBe(false);
  });

  it('skips ids a client already chose when assigning', () => {
    const set = new SubscriptionSet(3);
    set.add(toFilter({}), 's1');
    expect(set.add(toFilter({}))).toEqual({ ok: true, id: 's2' });
  });
});
