import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../common/config';
import { rootLogger } from '../common/logger';
import { ResultVersions, type FeedbackProducer } from './feedback';
import { Hub } from './hub';
import { closeCodes } from './protocol';
import { RateLimiter } from './rate-limit';
import { CONTROL_HEADROOM, CONTROL_HEADROOM_BYTES, Session, SOCKET_HIGH_WATER_BYTES, type SessionDeps } from './session';
import type { Submitter } from './submit';
import { TokenStore, type Scope } from './tokens';

/** A stand-in for a ws WebSocket: records frames; `bufferedAmount` says whether the peer reads. */
class FakeWs extends EventEmitter {
  sent: string[] = [];
  bufferedAmount = 0;
  closedWith: number | undefined;
  send(frame: string): void {
    this.sent.push(frame);
  }
  ping(): void {}
  close(code: number): void {
    this.closedWith = code;
  }
  terminate(): void {
    this.emit('close');
  }
  messages(): Array<Record<string, unknown>> {
    return this.sent.map((f) => JSON.parse(f) as Record<string, unknown>);
  }
  receive(message: unknown): void {
    this.emit('message', Buffer.from(typeof message === 'string' ? message : JSON.stringify(message)), false);
  }
}

function setup(gateway: Record<string, unknown> = {}, perMinute = 1000) {
  const config = configSchema.parse({ gateway: { sendQueueMax: 4, ...gateway } });
  const tokens = new TokenStore(join(mkdtempSync(join(tmpdir(), 'trident-session-')), 'tokens.json'));
  const sent: unknown[] = [];
  const feedback: unknown[] = [];
  const deps: SessionDeps = {
    config: config.gateway,
    producerLimits: config.producer,
    instanceId: 'gw-test',
    hub: new Hub(),
    tokens,
    limiter: new RateLimiter(perMinute, () => 0),
    submitter: { send: async (events: unknown[]) => void sent.push(...events) } as unknown as Submitter,
    feedback: { send: async (events: unknown[]) => void feedback.push(...events) } as unknown as FeedbackProducer,
    versions: new ResultVersions(),
    log: rootLogger('silent'),
    socketsPerToken: new Map(),
    sessions: new Set(),
    unauthenticated: { count: 0 },
  };
  const open = (scopes: Scope[] = ['submit', 'subscribe'], tenant = 'default') => {
    const ws = new FakeWs();
    const socket = new EventEmitter();
    const session = new Session(ws as never, socket as never, deps, tokens.verify(tokens.create(scopes, undefined, tenant).token));
    return { ws, socket, session };
  };
  return { deps, open, sent, feedback };
}

const result = (id: string) => ({ id, key: null, label: 'positive' });

describe('Session', () => {
  it('welcomes, subscribes, and delivers matching results', () => {
    const { deps, open } = setup();
    const { ws } = open();
    ws.receive({ v: 1, type: 'subscribe', ref: 'r', tasks: ['sentiment'] });
    deps.hub.dispatch('sentiment', result('a'));
    deps.hub.dispatch('entities', result('b'));
    expect(ws.messages().map((m) => m.type)).toEqual(['welcome', 'subscribed', 'result']);
    expect(ws.messages()[2]).toMatchObject({ task: 'sentiment', data: { id: 'a' } });
  });

  it('holds frames while the peer does not read, drops beyond the queue, then sends one lagged notice', () => {
    const { deps, open } = setup();
    const { ws, socket } = open(['subscribe']);
    ws.receive({ v: 1, type: 'subscribe' });
    ws.bufferedAmount = SOCKET_HIGH_WATER_BYTES; // the peer stopped reading
    for (let i = 0; i < 10; i++) deps.hub.dispatch('sentiment', result(`r${i}`));
    expect(ws.messages().filter((m) => m.type === 'result')).toHaveLength(0);
    ws.bufferedAmount = 0; // it reads again
    socket.emit('drain');
    const types = ws.messages().map((m) => (m.type === 'result' ? `result:${(m.data as { id: string }).id}` : m.type));
    expect(types).toEqual(['welcome', 'subscribed', 'result:r0', 'result:r1', 'result:r2', 'result:r3', 'lagged']);
    expect(ws.messages().at(-1)).toEqual({ v: 1, type: 'lagged', missed: 6 });
    deps.hub.dispatch('sentiment', result('r10'));
    expect(ws.messages().at(-1)).toMatchObject({ type: 'result', data: { id: 'r10' } });
  });

  it('with slowClientPolicy=disconnect, a full queue closes the socket with 4409', () => {
    const { deps, open } = setup({ slowClientPolicy: 'disconnect' });
    const { ws } = open(['subscribe']);
    ws.receive({ v: 1, type: 'subscribe' });
    ws.bufferedAmount = SOCKET_HIGH_WATER_BYTES;
    for (let i = 0; i < 5; i++) deps.hub.dispatch('sentiment', result(`r${i}`));
    expect(ws.closedWith).toBe(closeCodes.SLOW_CLIENT);
  });

  it('closes a client that keeps sending requests without reading the replies', () => {
    const { open } = setup();
    const { ws } = open();
    ws.bufferedAmount = SOCKET_HIGH_WATER_BYTES;
    for (let i = 0; i < 4 + CONTROL_HEADROOM + 10; i++) ws.receive({ v: 1, type: 'ping' });
    expect(ws.closedWith).toBe(closeCodes.SLOW_CLIENT);
  });

  it('answers every malformed message with an error and keeps going', () => {
    const { open } = setup();
    const { ws } = open();
    ws.receive('garbage');
    ws.receive({ v: 1, type: 'unsubscribe', subscription: 'none' });
    ws.receive({ v: 1, type: 'ping', ref: 'p' });
    expect(
      ws
        .messages()
        .slice(1)
        .map((m) => m.code ?? m.type),
    ).toEqual(['BAD_JSON', 'UNKNOWN_SUBSCRIPTION', 'pong']);
    expect(ws.closedWith).toBeUndefined();
  });

  it('routes results of its own submissions back', async () => {
    const { deps, open, sent } = setup();
    const { ws } = open(['submit']);
    ws.receive({ v: 1, type: 'submit', ref: 's', text: { id: 'mine', text: 'hello' } });
    await new Promise((r) => setImmediate(r));
    expect(sent).toHaveLength(1);
    expect(ws.messages().at(-1)).toEqual({ v: 1, type: 'accepted', ref: 's', ids: ['mine'] });
    deps.hub.dispatch('entities', result('mine'));
    deps.hub.dispatch('entities', result('theirs'));
    expect(
      ws
        .messages()
        .filter((m) => m.type === 'result')
        .map((m) => (m.data as { id: string }).id),
    ).toEqual(['mine']);
  });

  it('refuses requests over the token’s rate limit with a retry hint, and keeps the socket', () => {
    const { open } = setup({ requestsPerMinutePerToken: 2 }, 2);
    const { ws } = open();
    for (const ref of ['1', '2', '3']) ws.receive({ v: 1, type: 'subscribe', ref });
    expect(ws.messages().at(-1)).toEqual({
      v: 1,
      type: 'error',
      code: 'RATE_LIMITED',
      ref: '3',
      message: expect.stringContaining('2 requests per minute'),
      retryAfterMs: 30_000,
    });
    ws.receive({ v: 1, type: 'ping', ref: 'p' });
    expect(ws.messages().at(-1)).toMatchObject({ type: 'pong', ref: 'p' });
    expect(ws.closedWith).toBeUndefined();
  });

  it('closes with 4403 a token that has no usable scope (a hand-edited token file)', () => {
    const { deps } = setup();
    const verified = deps.tokens.verify(deps.tokens.create(['subscribe']).token);
    if (!verified.ok) throw new Error('token did not verify');
    const ws = new FakeWs();
    new Session(ws as never, new EventEmitter() as never, deps, { ...verified, token: { ...verified.token, scopes: [] } });
    expect(ws.closedWith).toBe(closeCodes.FORBIDDEN);
    expect(ws.messages()).toEqual([expect.objectContaining({ type: 'error', code: 'FORBIDDEN' })]);
    expect(deps.socketsPerToken.size).toBe(0);
  });

  it('releases its token slot and owned ids on close', () => {
    const { deps, open } = setup();
    const { ws } = open();
    expect([...deps.socketsPerToken.values()]).toEqual([1]);
    ws.emit('close');
    expect(deps.socketsPerToken.size).toBe(0);
    expect(deps.sessions.size).toBe(0);
  });

  it("submits under its token's tenant and gets back only that tenant's result for a shared id", async () => {
    const { deps, open, sent } = setup();
    const a = open(['submit'], 'acme');
    const b = open(['submit'], 'globex');
    a.ws.receive({ v: 1, type: 'submit', text: { id: '1', text: 'from acme' } });
    b.ws.receive({ v: 1, type: 'submit', text: { id: '1', text: 'from globex', tenant: 'acme' } });
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([expect.objectContaining({ id: '1', tenant: 'acme' })]);
    expect(b.ws.messages().at(-1)).toMatchObject({
      type: 'error',
      code: 'INVALID_TEXT',
      rejections: [{ index: 0, code: 'TENANT_MISMATCH' }],
    });
    deps.hub.dispatch('sentiment', { ...result('1'), tenant: 'globex' });
    deps.hub.dispatch('sentiment', { ...result('1'), tenant: 'acme' });
    const got = (ws: FakeWs) =>
      ws
        .messages()
        .filter((m) => m.type === 'result')
        .map((m) => (m.data as { tenant: string }).tenant);
    expect(got(a.ws)).toEqual(['acme']);
    expect(got(b.ws)).toEqual([]);
  });

  it('a submit-only token cannot subscribe; an admin token subscribes across tenants', () => {
    const { deps, open } = setup();
    const submitter = open(['submit'], 'acme');
    submitter.ws.receive({ v: 1, type: 'subscribe' });
    expect(submitter.ws.messages().at(-1)).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    const admin = open(['subscribe', 'admin'], 'ops');
    expect(admin.ws.messages()[0]).toMatchObject({ type: 'welcome', tenant: 'ops', scopes: ['subscribe', 'admin'] });
    admin.ws.receive({ v: 1, type: 'subscribe' });
    deps.hub.dispatch('sentiment', { ...result('x'), tenant: 'acme' });
    deps.hub.dispatch('sentiment', result('y'));
    expect(admin.ws.messages().filter((m) => m.type === 'result')).toHaveLength(2);
    expect(submitter.ws.messages().filter((m) => m.type === 'result')).toHaveLength(0);
  });

  it('bounds its replies in bytes: junk keys are named briefly, and a client that never reads is closed', () => {
    // A huge frame count limit: only the byte bound can stop the queue.
    const { open } = setup({ sendQueueMax: 1_000_000, sendQueueMaxBytes: 1024 });
    const { ws } = open();
    ws.bufferedAmount = SOCKET_HIGH_WATER_BYTES; // never reads
    const junk = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`junk-${i}-${'k'.repeat(400)}`, 1]));
    const frame = JSON.stringify({ v: 1, type: 'ping', ...junk });
    let replies = 0;
    for (let i = 0; i < 2000 && ws.closedWith === undefined; i++) {
      ws.receive(frame);
      replies += 1;
    }
    expect(ws.closedWith).toBe(closeCodes.SLOW_CLIENT);
    // Each reply names 3 keys cut to 64 characters (~250 bytes): the queue held at most its bytes plus the control headroom.
    expect(replies).toBeLessThanOrEqual(Math.ceil((1024 + CONTROL_HEADROOM_BYTES) / 200));
    expect(replies).toBeGreaterThan(100);
  });

  it('counts sockets still to authenticate until they do', () => {
    const { deps } = setup();
    const ws = new FakeWs();
    new Session(ws as never, new EventEmitter() as never, deps, undefined);
    expect(deps.unauthenticated.count).toBe(1);
    ws.receive({ v: 1, type: 'auth', token: deps.tokens.create(['subscribe']).token });
    expect(ws.messages()[0]).toMatchObject({ type: 'welcome' });
    expect(deps.unauthenticated.count).toBe(0);
    const idle = new FakeWs();
    new Session(idle as never, new EventEmitter() as never, deps, undefined);
    expect(deps.unauthenticated.count).toBe(1);
    idle.emit('close');
    expect(deps.unauthenticated.count).toBe(0);
  });
  describe('feedback', () => {
    const correction = { id: 't1', text: 'Ada Lovelace worked in London.', task: 'sentiment', label: 'negative' };
    const flush = () => new Promise((r) => setImmediate(r));

    it('sends a correction with the source from the token and the model version of the result the gateway delivered', async () => {
      const { deps, open, feedback } = setup();
      const { ws } = open(['submit', 'subscribe', 'feedback'], 'acme');
      deps.versions.note('acme', 't1', 'sentiment', '2.1.0');
      ws.receive({ v: 1, type: 'feedback', ref: 'f1', feedback: { ...correction, modelVersion: 'claimed' } });
      await flush();
      expect(feedback).toEqual([
        expect.objectContaining({ id: 't1', task: 'sentiment', label: 'negative', modelVersion: '2.1.0', source: expect.any(String) }),
      ]);
      const source = (feedback[0] as { source: string }).source;
      expect(source).toMatch(/^gateway:acme\/token-[0-9a-f]{12}$/);
      expect(ws.messages()[1]).toEqual({
        v: 1,
        type: 'feedbackAccepted',
        ref: 'f1',
        id: 't1',
        task: 'sentiment',
        source,
        modelVersion: '2.1.0',
      });
    });

    it('keeps the client’s model version when the gateway delivered no result for the id (another tenant’s does not count)', async () => {
      const { deps, open, feedback } = setup();
      const { ws } = open(['feedback'], 'acme');
      deps.versions.note('other', 't1', 'sentiment', '9.9.9');
      ws.receive({ v: 1, type: 'feedback', feedback: { ...correction, modelVersion: '1.0.0' } });
      await flush();
      expect(feedback).toEqual([expect.objectContaining({ modelVersion: '1.0.0' })]);
    });

    it('refuses a token without the feedback scope (FORBIDDEN, socket open, nothing sent)', async () => {
      const { open, feedback } = setup();
      const { ws } = open(['submit', 'subscribe']);
      ws.receive({ v: 1, type: 'feedback', ref: 'f', feedback: correction });
      await flush();
      expect(feedback).toEqual([]);
      expect(ws.messages()[1]).toMatchObject({
        type: 'error',
        code: 'FORBIDDEN',
        ref: 'f',
        message: expect.stringContaining('"feedback"'),
      });
      expect(ws.closedWith).toBeUndefined();
    });

    it('refuses invalid feedback with INVALID_FEEDBACK and the reason, sending nothing', async () => {
      const { open, feedback } = setup();
      const { ws } = open(['feedback']);
      ws.receive({ v: 1, type: 'feedback', ref: 'f', feedback: { ...correction, label: null } });
      ws.receive({ v: 1, type: 'feedback', ref: 'g', feedback: { ...correction, source: 'someone-else' } });
      await flush();
      expect(feedback).toEqual([]);
      expect(ws.messages().slice(1)).toEqual([
        expect.objectContaining({
          type: 'error',
          code: 'INVALID_FEEDBACK',
          ref: 'f',
          rejections: [expect.objectContaining({ code: 'INVALID_FIELD' })],
        }),
        expect.objectContaining({
          type: 'error',
          code: 'INVALID_FEEDBACK',
          ref: 'g',
          rejections: [expect.objectContaining({ code: 'SOURCE_NOT_ALLOWED' })],
        }),
      ]);
    });

    it('lets a feedback-only token connect', () => {
      const { open } = setup();
      const { ws } = open(['feedback']);
      expect(ws.messages()[0]).toMatchObject({ type: 'welcome', scopes: ['feedback'] });
    });
  });
});
