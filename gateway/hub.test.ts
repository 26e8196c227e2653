import { Hub, type Subscriber } from './hub';
import { SubscriptionSet, toFilter } from './subscriptions';
import { ALL_TENANTS, DEFAULT_TENANT } from './tenants';
import type { TaskName } from '../common/tasks';

class FakeSocket implements Subscriber {
  readonly frames: string[] = [];
  constructor(
    readonly subs = new SubscriptionSet(8),
    readonly tenantScope = 'default',
  ) {}
  wants(task: TaskName, result: { id: string; key: string | null }, isOwn: boolean): boolean {
    return this.subs.wants(task, result, isOwn);
  }
  deliver(frame: string): void {
    this.frames.push(frame);
  }
  ids(): string[] {
    return this.frames.map((f) => `${JSON.parse(f).task}:${JSON.parse(f).data.id}`);
  }
}

const result = (id: string, key: string | null = null, tenant: string | null = null) => ({ id, key, tenant, label: 'positive' });

describe('Hub', () => {
  it('routes by task index and subscription, once per socket, with one shared frame', () => {
    const hub = new Hub();
    const a = new FakeSocket();
    a.subs.add(toFilter({ tasks: ['sentiment'], keys: ['k1'] }));
    a.subs.add(toFilter({ tasks: ['sentiment'] }));
    const b = new FakeSocket();
    b.subs.add(toFilter({ tasks: ['entities'] }));
    hub.index(a, a.subs.tasks());
    hub.index(b, b.subs.tasks());
    expect(hub.dispatch('sentiment', result('r1', 'k1'))).toBe(1);
    expect(hub.dispatch('entities', result('r2'))).toBe(1);
    expect(a.ids()).toEqual(['sentiment:r1']);
    expect(b.ids()).toEqual(['entities:r2']);
    hub.remove(a);
    expect(hub.dispatch('sentiment', result('r3'))).toBe(0);
  });

  it('routes results of own submissions back without a subscription, and stops after disown', () => {
    const hub = new Hub();
    const owner = new FakeSocket();
    const other = new FakeSocket();
    other.subs.add(toFilter({ own: true }));
    hub.index(other, other.subs.tasks());
    hub.own('default', 'mine', owner);
    hub.dispatch('answers', result('mine'));
    expect(owner.ids()).toEqual(['answers:mine']);
    expect(other.ids()).toEqual([]);
    hub.disown('default', 'mine', owner);
    hub.dispatch('answers', result('mine'));
    expect(owner.ids()).toEqual(['answers:mine']);
  });

  it('a socket that owns an id and subscribes to its task gets the result once', () => {
    const hub = new Hub();
    const s = new FakeSocket();
    s.subs.add(toFilter({}));
    hub.index(s, s.subs.tasks());
    hub.own('default', 'x', s);
    hub.dispatch('sentiment', result('x'));
    expect(s.frames).toHaveLength(1);
  });

  it('a wait resolves as soon as every expected result arrived, with them', async () => {
    const hub = new Hub();
    const waiting = hub.wait(
      'default',
      new Map<string, TaskName[]>([
        ['a', ['sentiment', 'entities']],
        ['b', ['sentiment']],
      ]),
      10_000,
    );
    hub.dispatch('sentiment', result('a'));
    hub.dispatch('sentiment', result('b'));
    hub.dispatch('entities', result('a'));
    const outcome = await waiting;
    expect(outcome.complete).toBe(true);
    expect(Object.keys(outcome.results.a!).sort()).toEqual(['entities', 'sentiment']);
    expect(outcome.results.b!.sentiment).toMatchObject({ id: 'b' });
  });

  it('a wait ends at its timeout with what arrived, marked incomplete', async () => {
    jest.useFakeTimers();
    try {
      const hub = new Hub();
      const waiting = hub.wait('default', new Map<string, TaskName[]>([['a', ['sentiment', 'entities']]]), 500);
      hub.dispatch('sentiment', result('a'));
      jest.advanceTimersByTime(500);
      const outcome = await waiting;
      expect(outcome).toEqual({ complete: false, results: { a: { sentiment: expect.objectContaining({ id: 'a' }) } } });
    } finally {
      jest.useRealTimers();
    }
  });

  it('isolates tenants: subscriptions, owned ids and waits see only their tenant; admin sees all', async () => {
    const hub = new Hub();
    const a = new FakeSocket(new SubscriptionSet(8), 'acme');
    const b = new FakeSocket(new SubscriptionSet(8), 'globex');
    const admin = new FakeSocket(new SubscriptionSet(8), ALL_TENANTS);
    for (const s of [a, b, admin]) {
      s.subs.add(toFilter({ tasks: ['sentiment'] }));
      hub.index(s, s.subs.tasks());
    }
    const ownerA = new FakeSocket(new SubscriptionSet(8), 'acme');
    const ownerB = new FakeSocket(new SubscriptionSet(8), 'globex');
    hub.own('acme', '1', ownerA);
    hub.own('globex', '1', ownerB);
    const waitA = hub.wait('acme', new Map<string, TaskName[]>([['1', ['sentiment']]]), 10_000);
    const waitB = hub.wait('globex', new Map<string, TaskName[]>([['1', ['sentiment']]]), 10_000);
    hub.dispatch('sentiment', { ...result('1', null, 'acme'), label: 'A' });
    hub.dispatch('sentiment', { ...result('1', null, 'globex'), label: 'B' });
    hub.dispatch('sentiment', result('2'));
    const labels = (s: FakeSocket) => s.frames.map((f) => `${JSON.parse(f).data.id}:${JSON.parse(f).data.label}`);
    expect(labels(a)).toEqual(['1:A']);
    expect(labels(b)).toEqual(['1:B']);
    expect(labels(ownerA)).toEqual(['1:A']);
    expect(labels(ownerB)).toEqual(['1:B']);
    expect(labels(admin)).toEqual(['1:A', '1:B', '2:positive']);
    expect((await waitA).results['1']!.sentiment).toMatchObject({ label: 'A' });
    expect((await waitB).results['1']!.sentiment).toMatchObject({ label: 'B' });
  });

  it('results without a tenant belong to the default tenant', () => {
    const hub = new Hub();
    const d = new FakeSocket(new SubscriptionSet(8), DEFAULT_TENANT);
    const other = new FakeSocket(new SubscriptionSet(8), 'acme');
    for (const s of [d, other]) {
      s.subs.add(toFilter({}));
      hub.index(s, s.subs.tasks());
    }
    hub.dispatch('entities', result('x'));
    expect(d.frames).toHaveLength(1);
    expect(other.frames).toHaveLength(0);
  });
});
