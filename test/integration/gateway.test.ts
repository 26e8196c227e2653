/**
 * The gateway against the real broker and registry. Until the processor (issue 6) is wired in here,
 * the tests play its part: a stand-in reads the test's text topic and publishes result events, or
 * the test publishes result events to the result topics directly.
 */
import WebSocket from 'ws';
import { closeCodes } from '../../gateway/protocol';
import { Gateway } from '../../gateway/server';
import { TokenStore } from '../../gateway/tokens';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, createTestTopics, runCli, testConfig } from './harness';
import { ResultPublisher, startGateway, startStandInProcessor, TestClient, type TestGateway } from './gateway-helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('gateway: submit over WebSocket and HTTP, results routed back', () => {
  let gw: TestGateway;
  let processor: Awaited<ReturnType<typeof startStandInProcessor>>;
  beforeAll(async () => {
    gw = await startGateway('gw-submit');
    // The stand-in processor: reads the text topic, publishes sentiment + entities results.
    processor = await startStandInProcessor(gw.config);
  });
  afterAll(async () => {
    await processor?.stop();
    await gw?.stop();
  });

  it('a WebSocket client submits a text and receives its results; another socket does not', async () => {
    const token = gw.token(['submit', 'subscribe']);
    const client = await TestClient.connect(gw.ws, token);
    const bystander = await TestClient.connect(gw.ws, token);
    const welcome = await client.next((m) => m.type === 'welcome');
    expect(welcome).toMatchObject({ v: 1, scopes: ['submit', 'subscribe'], limits: expect.objectContaining({ maxSubscriptions: 32 }) });
    await bystander.next((m) => m.type === 'welcome');

    const text = 'Ada Lovelace worked in London.';
    client.send({ type: 'submit', ref: 'r1', text: { id: 'ws-1', text, tasks: ['sentiment', 'entities'], key: 'customer-7' } });
    expect(await client.next((m) => m.type === 'accepted')).toEqual({ v: 1, type: 'accepted', ref: 'r1', ids: ['ws-1'] });
    const sentiment = await client.next((m) => m.type === 'result' && m.task === 'sentiment');
    const entities = await client.next((m) => m.type === 'result' && m.task === 'entities');
    expect(sentiment.data).toMatchObject({ id: 'ws-1', key: 'customer-7', label: 'positive' });
    expect(entities.data).toMatchObject({
      id: 'ws-1',
      entities: [
        { label: 'PER', text: 'Ada Lovelace', start: 0, end: 12 },
        { label: 'LOC', text: 'London', start: 23, end: 29 },
      ],
    });
    await sleep(500);
    expect(bystander.results()).toEqual([]);
    expect(processor.seen.find((e) => e.id === 'ws-1')).toMatchObject({ text, key: 'customer-7', tasks: ['sentiment', 'entities'] });
    client.close();
    bystander.close();
  });

  it('refuses an invalid submit with per-text reasons and sends nothing; the socket stays usable', async () => {
    const client = await TestClient.connect(gw.ws, gw.token(['submit']));
    await client.next((m) => m.type === 'welcome');
    client.send({
      type: 'submit',
      ref: 'bad',
      texts: [{ text: 'fine', id: 'never-sent' }, { text: '' }, { text: 'x', tasks: ['translate'] }],
    });
    const error = await client.next((m) => m.type === 'error');
    expect(error).toMatchObject({
      code: 'INVALID_TEXT',
      ref: 'bad',
      rejections: [
        { index: 1, code: 'TEXT_EMPTY' },
        { index: 2, code: 'TASK_UNKNOWN' },
      ],
    });
    client.send({ type: 'ping', ref: 'still-there' });
    expect(await client.next((m) => m.type === 'pong')).toEqual({ v: 1, type: 'pong', ref: 'still-there' });
    await sleep(500);
    expect(processor.seen.some((e) => e.id === 'never-sent')).toBe(false);
    client.close();
  });

  it('every malformed message gets an error with a code, and the socket keeps working', async () => {
    const client = await TestClient.connect(gw.ws, gw.token(['subscribe']));
    await client.next((m) => m.type === 'welcome');
    const frames = [
      'not json',
      '[]',
      '{"type":"ping"}',
      '{"v":2,"type":"ping"}',
      '{"v":1,"type":"nope"}',
      '{"v":1,"type":"subscribe","tasks":["x"]}',
      JSON.stringify({ v: 1, type: 'ping', pad: 'x'.repeat(1_200_000) }),
    ];
    for (const f of frames) client.ws.send(f);
    client.send({ type: 'ping', ref: 'after' });
    await client.next((m) => m.type === 'pong' && m.ref === 'after');
    const codes = client.messages.filter((m) => m.type === 'error').map((m) => m.code);
    expect(codes).toEqual([
      'BAD_JSON',
      'BAD_MESSAGE',
      'UNSUPPORTED_VERSION',
      'UNSUPPORTED_VERSION',
      'UNKNOWN_TYPE',
      'BAD_MESSAGE',
      'MESSAGE_TOO_LARGE',
    ]);
    client.close();
  });

  it('POST /v1/texts?wait returns the ids and the results', async () => {
    const token = gw.token(['submit']);
    const res = await fetch(`${gw.http}/v1/texts?wait=20000`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        texts: [
          { id: 'h-1', text: 'Grace Hopper lived in Arlington.', tasks: ['entities'] },
          { id: 'h-2', text: 'An awful day.', tasks: ['sentiment'] },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      ids: string[];
      complete: boolean;
      results: Record<string, Record<string, { label?: string; entities?: unknown[] }>>;
    };
    expect(body.ids).toEqual(['h-1', 'h-2']);
    expect(body.complete).toBe(true);
    expect(body.results['h-1']!.entities!.entities).toHaveLength(2);
    expect(body.results['h-2']!.sentiment!.label).toBe('negative');

    const noWait = await fetch(`${gw.http}/v1/texts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      body: JSON.stringify({ text: 'quick' }),
    });
    expect(noWait.status).toBe(202);
    expect(((await noWait.json()) as { ids: string[] }).ids).toHaveLength(1);

    const invalid = await fetch(`${gw.http}/v1/texts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      body: JSON.stringify([{ text: 'ok' }, { text: '   ' }]),
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: { code: 'INVALID_TEXT', rejections: [{ index: 1, code: 'TEXT_WHITESPACE' }] } });
  });

  it('answers /healthz, /readyz, /metrics, /openapi.json and /docs', async () => {
    expect((await fetch(`${gw.http}/healthz`)).status).toBe(200);
    const ready = await fetch(`${gw.http}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      ready: true,
      checks: { kafka: { ok: true }, registry: { ok: true }, results: { ok: true } },
    });
    const metrics = await (await fetch(`${gw.http}/metrics`)).text();
    expect(metrics).toMatch(/trident_gateway_results_delivered_total\{task="sentiment"\} \d+/);
    const doc = (await (await fetch(`${gw.http}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/texts', '/v1/feedback', '/healthz', '/readyz', '/metrics']));
    expect(await (await fetch(`${gw.http}/docs`)).text()).toMatch(/SwaggerUIBundle/);
    expect((await fetch(`${gw.http}/docs/assets/swagger-ui-bundle.js`)).status).toBe(200);
  });
});

describe('gateway: subscriptions', () => {
  let gw: TestGateway;
  let second: TestGateway;
  let publisher: ResultPublisher;
  beforeAll(async () => {
    gw = await startGateway('gw-subs');
    // A second instance on the same topics: each serves its own clients from all partitions.
    second = await startGateway('gw-subs-2', {}, { config: { ...gw.config, gateway: { ...gw.config.gateway } }, env: gw.env });
    publisher = new ResultPublisher(gw.config);
  });
  afterAll(async () => {
    await publisher?.close();
    await second?.stop();
    await gw?.stop();
  });

  it('a subscriber sees only the tasks and keys it asked for, on every instance', async () => {
    const token = gw.token(['subscribe']);
    const a = await TestClient.connect(gw.ws, token);
    const b = await TestClient.connect(gw.ws, token);
    const c = await TestClient.connect(second.ws, token, 'header');
    const d = await TestClient.connect(gw.ws, token, 'none');
    d.send({ type: 'auth', token });
    for (const cl of [a, b, c, d]) await cl.next((m) => m.type === 'welcome');
    a.send({ type: 'subscribe', ref: 'a', tasks: ['sentiment'], keys: ['k1'] });
    b.send({ type: 'subscribe', ref: 'b', subscription: 'ents', tasks: ['entities'] });
    c.send({ type: 'subscribe', ref: 'c' });
    d.send({ type: 'subscribe', ref: 'd', ids: ['r-3'] });
    expect(await a.next((m) => m.type === 'subscribed')).toEqual({
      v: 1,
      type: 'subscribed',
      ref: 'a',
      subscription: 's1',
      tasks: ['sentiment'],
    });
    expect(await b.next((m) => m.type === 'subscribed')).toMatchObject({ subscription: 'ents', tasks: ['entities'] });
    await c.next((m) => m.type === 'subscribed');
    await d.next((m) => m.type === 'subscribed');

    await publisher.send([
      publisher.sentiment('r-1', 'k1'),
      publisher.sentiment('r-2', 'k2'),
      publisher.entities('r-3', 'k1', 'Ada in London', [{ label: 'PER', start: 0, end: 3 }]),
      publisher.answers('r-4', 'k1', 'Ada in London', 'Where?', 7, 13),
      publisher.sentiment('r-5', null),
    ]);
    await c.next(() => c.results().length >= 5);
    await a.next((m) => m.type === 'result');
    await b.next((m) => m.type === 'result');
    await d.next((m) => m.type === 'result');
    await sleep(1000);
    const seen = (cl: TestClient) =>
      cl
        .results()
        .map((r) => `${r.task}:${r.data.id}`)
        .sort();
    expect(seen(a)).toEqual(['sentiment:r-1']);
    expect(seen(b)).toEqual(['entities:r-3']);
    expect(seen(c)).toEqual(['answers:r-4', 'entities:r-3', 'sentiment:r-1', 'sentiment:r-2', 'sentiment:r-5']);
    expect(seen(d)).toEqual(['entities:r-3']);

    // Unsubscribing stops the stream; the limit on subscriptions holds.
    b.send({ type: 'unsubscribe', ref: 'u', subscription: 'ents' });
    expect(await b.next((m) => m.type === 'unsubscribed')).toMatchObject({ subscription: 'ents', ref: 'u' });
    b.send({ type: 'unsubscribe', ref: 'u2', subscription: 'ents' });
    expect(await b.next((m) => m.type === 'error' && m.ref === 'u2')).toMatchObject({ code: 'UNKNOWN_SUBSCRIPTION' });
    // A repeat of a delivered result (an at-least-once processor after a crash) is dropped.
    await publisher.send([publisher.sentiment('r-1', 'k1'), publisher.entities('r-6', 'k1', 'Bob', [])]);
    await c.next((m) => m.type === 'result' && (m.data as { id: string }).id === 'r-6');
    await sleep(500);
    expect(seen(b)).toEqual(['entities:r-3']);
    expect(seen(c)).toEqual(['answers:r-4', 'entities:r-3', 'entities:r-6', 'sentiment:r-1', 'sentiment:r-2', 'sentiment:r-5']);
    for (const cl of [a, b, c, d]) cl.close();
  });

  it('enforces subscriptions per socket and sockets per token', async () => {
    const limited = await startGateway('gw-limits', { maxSubscriptionsPerSocket: 2, maxSocketsPerToken: 2 });
    try {
      const token = limited.token(['subscribe']);
      const one = await TestClient.connect(limited.ws, token);
      await one.next((m) => m.type === 'welcome');
      for (const ref of ['1', '2', '3']) one.send({ type: 'subscribe', ref });
      expect(await one.next((m) => m.type === 'error')).toMatchObject({ code: 'TOO_MANY_SUBSCRIPTIONS', ref: '3' });
      const two = await TestClient.connect(limited.ws, token);
      await two.next((m) => m.type === 'welcome');
      const three = await TestClient.connect(limited.ws, token);
      expect((await three.closed).code).toBe(closeCodes.TOO_MANY_SOCKETS);
      one.close();
      two.close();
    } finally {
      await limited.stop();
    }
  });
});

describe('gateway: tokens and scopes', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway('gw-auth', { requestsPerMinutePerToken: 5 });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('HTTP: 401 without or with a wrong token, 403 without the submit scope, 429 over the rate limit', async () => {
    const post = (token?: string) =>
      fetch(`${gw.http}/v1/texts`, {
        method: 'POST',
        headers: token ? { Authorization: `Bearer ${token}` } : {},
        body: JSON.stringify({ text: 'hello' }),
      });
    const missing = await post();
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect((await post('trd_000000000000_' + 'A'.repeat(43))).status).toBe(401);
    expect((await post('nonsense')).status).toBe(401);
    const subscribeOnly = gw.token(['subscribe']);
    const forbidden = await post(subscribeOnly);
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    const submit = gw.token(['submit']);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post(submit)).status);
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
    const metrics = await (await fetch(`${gw.http}/metrics`)).text();
    expect(metrics).toMatch(/trident_gateway_auth_failures_total\{transport="http",reason="missing"\} [1-9]/);
    expect(metrics).toMatch(/trident_gateway_auth_failures_total\{transport="http",reason="missing_scope_submit"\} [1-9]/);
  });

  it('WebSocket: wrong tokens are refused with 401 / close 4401, missing scopes with FORBIDDEN, revoked tokens are closed', async () => {
    await expect(TestClient.connect(gw.ws, 'trd_000000000000_' + 'A'.repeat(43), 'header')).rejects.toThrow(/HTTP 401/);
    const viaProtocol = await TestClient.connect(gw.ws, 'wrong');
    expect(await viaProtocol.closed).toEqual({ code: closeCodes.UNAUTHORIZED, reason: 'unauthorized' });
    expect(viaProtocol.messages[0]).toMatchObject({ type: 'error', code: 'UNAUTHORIZED' });
    const viaMessage = await TestClient.connect(gw.ws);
    viaMessage.send({ type: 'subscribe', ref: 'early' });
    expect(await viaMessage.next((m) => m.type === 'error')).toMatchObject({ code: 'NOT_AUTHENTICATED', ref: 'early' });
    viaMessage.send({ type: 'auth', token: 'trd_nope' });
    expect((await viaMessage.closed).code).toBe(closeCodes.UNAUTHORIZED);

    const submitOnly = await TestClient.connect(gw.ws, gw.token(['submit']));
    await submitOnly.next((m) => m.type === 'welcome');
    submitOnly.send({ type: 'subscribe', ref: 's' });
    expect(await submitOnly.next((m) => m.type === 'error')).toMatchObject({ code: 'FORBIDDEN', ref: 's' });
    const subscribeOnly = await TestClient.connect(gw.ws, gw.token(['subscribe']));
    await subscribeOnly.next((m) => m.type === 'welcome');
    subscribeOnly.send({ type: 'submit', ref: 't', text: { text: 'hi' } });
    expect(await subscribeOnly.next((m) => m.type === 'error')).toMatchObject({ code: 'FORBIDDEN', ref: 't' });
    subscribeOnly.send({ type: 'ping', ref: 'p' });
    await subscribeOnly.next((m) => m.type === 'pong');

    // Revoking through the CLI closes the open socket within about a second.
    const { record, token } = gw.tokens.create(['subscribe'], 'to-revoke');
    const doomed = await TestClient.connect(gw.ws, token);
    await doomed.next((m) => m.type === 'welcome');
    const revoked = await runCli(['token', 'revoke', 'to-revoke'], gw.env);
    expect(revoked.code).toBe(0);
    expect(revoked.stderr).toContain(record.id);
    expect((await doomed.closed).code).toBe(closeCodes.UNAUTHORIZED);
    submitOnly.close();
    subscribeOnly.close();
  });

  it('trident token create | list | revoke keep only hashes', async () => {
    const created = await runCli(['token', 'create', '--scopes', 'submit,subscribe', '--name', 'cli-made'], gw.env);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^trd_[0-9a-f]{12}_/);
    const res = await fetch(`${gw.http}/v1/texts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      body: JSON.stringify({ text: 'from a CLI token' }),
    });
    expect(res.status).toBe(202);
    const listed = await runCli(['token', 'list'], gw.env);
    expect(listed.stdout).toMatch(/cli-made\tdefault\tsubmit,subscribe\t.*\tactive/);
    expect(listed.stdout).not.toContain(token.slice(17));
    const bad = await runCli(['token', 'create', '--scopes', 'root'], gw.env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/valid scopes: submit, subscribe, feedback, admin/);
    const tenanted = await runCli(['token', 'create', '--tenant', 'acme', '--scopes', 'subscribe', '--name', 'acme-reader'], gw.env);
    expect(tenanted.code).toBe(0);
    expect(tenanted.stderr).toContain('tenant acme');
    expect((await runCli(['token', 'list'], gw.env)).stdout).toMatch(/acme-reader\tacme\tsubscribe\t/);
    const badTenant = await runCli(['token', 'create', '--tenant', 'a b', '--scopes', 'subscribe'], gw.env);
    expect(badTenant.code).not.toBe(0);
    expect(badTenant.stderr).toMatch(/tenant "a b" is not valid/);
  });
});

describe('trident gateway (the command)', () => {
  it('listens on --port, answers /readyz, and stops cleanly on SIGTERM', async () => {
    const { config, env } = testConfig('gw-cmd');
    await createTestTopics(config);
    const tokensFile = join(mkdtempSync(join(tmpdir(), 'trident-gw-')), 'tokens.json');
    const child = spawn(process.execPath, [cli, 'gateway', '--host', '127.0.0.1', '--port', '0'], {
      env: { ...process.env, ...env, TRIDENT_GATEWAY_TOKENS_FILE: tokensFile, TRIDENT_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "listening" line in 30 s: ${stderr}`)), 30_000);
        child.stderr.on('data', () => {
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      expect(stderr).toContain('/docs');
      let ready = false;
      for (let i = 0; i < 300 && !ready; i++) {
        ready = (await fetch(`${url}readyz`)).ok;
        if (!ready) await sleep(100);
      }
      expect(ready).toBe(true);
      expect((await fetch(url)).headers.get('content-type')).toMatch(/text\/html/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});

describe('gateway: readiness', () => {
  it('/readyz is 503 and names the registry when the registry does not answer; /healthz stays 200', async () => {
    const base = testConfig('gw-ready', {
      gateway: { port: 0, tokensFile: join(mkdtempSync(join(tmpdir(), 'trident-gw-')), 'tokens.json') },
    });
    const config = { ...base.config, registry: { url: 'http://127.0.0.1:9/apis/ccompat/v7' } };
    const gateway = Gateway.fromConfig(config);
    const { port } = await gateway.start();
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(res.status).toBe(503);
      const text = await res.text();
      const body = JSON.parse(text) as { ready: boolean; checks: Record<string, { ok: boolean }>; requestId: string };
      expect(body.ready).toBe(false);
      // The failing check is named; its error text (hosts, ports) goes to the log only, under the request id.
      expect(body.checks.registry).toEqual({ ok: false });
      expect(body.checks.kafka).toEqual({ ok: true });
      expect(body.requestId).toMatch(/^[0-9a-f]{12}$/);
      expect(text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|fetch failed/);
      // A submit that fails inside (the registry is down) answers 503 with an id, not the error.
      const token = new TokenStore(config.gateway.tokensFile).create(['submit']).token;
      const submitted = await fetch(`http://127.0.0.1:${port}/v1/texts`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
        body: JSON.stringify({ text: 'hello' }),
      });
      expect(submitted.status).toBe(503);
      const failure = await submitted.text();
      expect(JSON.parse(failure)).toEqual({
        error: { code: 'UNAVAILABLE', message: expect.stringContaining('requestId'), requestId: expect.stringMatching(/^[0-9a-f]{12}$/) },
      });
      expect(failure).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|fetch failed|registry/);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      await gateway.stop();
    }
  });
});

describe('gateway: heartbeats', () => {
  it('a peer that stops answering pings is dropped', async () => {
    const gw = await startGateway('gw-heartbeat', { heartbeatMs: 300 });
    try {
      const token = gw.token(['subscribe']);
      const healthy = await TestClient.connect(gw.ws, token);
      // ws answers pings by itself unless told not to: this one plays a dead peer.
      const dead = new TestClient(new WebSocket(gw.ws, ['trident.v1', `bearer.${token}`], { autoPong: false }));
      await dead.next((m) => m.type === 'welcome');
      const closed = await dead.closed;
      expect(closed.code).toBe(1006); // terminated, no close frame
      healthy.send({ type: 'ping', ref: 'alive' });
      expect(await healthy.next((m) => m.type === 'pong')).toMatchObject({ ref: 'alive' });
      const metrics = await (await fetch(`${gw.http}/metrics`)).text();
      expect(metrics).toMatch(/trident_gateway_dead_peers_total [1-9]/);
      healthy.close();
    } finally {
      await gw.stop();
    }
  });
});

describe('gateway: slow clients', () => {
  it('a client that stops reading gets a lagged notice with the count it missed; the others get everything', async () => {
    const gw = await startGateway('gw-slow', { sendQueueMax: 20, sendQueueMaxBytes: 2_000_000 });
    const publisher = new ResultPublisher(gw.config);
    try {
      const token = gw.token(['subscribe']);
      const slow = await TestClient.connect(gw.ws, token);
      const fast = await TestClient.connect(gw.ws, token);
      for (const cl of [slow, fast]) {
        await cl.next((m) => m.type === 'welcome');
        cl.send({ type: 'subscribe', tasks: ['entities'] });
        await cl.next((m) => m.type === 'subscribed');
      }
      slow.ws.pause();
      // Big results fill the slow socket's kernel buffers, then its queue. Loopback buffers autotune
      // to tcp_rmem's maximum (32 MB on some machines), so publish until the gateway drops a frame,
      // then one more step. Steps are small enough for the fast client to take in one by one.
      const text = 'Ada Lovelace in London. '.repeat(25_000); // 600 KB
      const droppedFrames = async () =>
        Number(/trident_gateway_results_dropped_total (\d+)/.exec(await (await fetch(`${gw.http}/metrics`)).text())?.[1] ?? 0);
      const droppedBefore = await droppedFrames();
      const step = 4;
      let total = 0;
      let extraSteps = 1;
      while (extraSteps >= 0) {
        if (total >= 400) throw new Error(`the paused client never fell behind after ${total} results of 600 KB`);
        await publisher.send(
          Array.from({ length: step }, (_, j) => publisher.entities(`big-${total + j}`, 'k', text, [{ label: 'PER', start: 0, end: 12 }])),
        );
        total += step;
        await fast.next(() => fast.results().length >= total, 30_000);
        if ((await droppedFrames()) > droppedBefore) extraSteps--;
      }
      slow.ws.resume();
      const lagged = await slow.next((m) => m.type === 'lagged', 30_000);
      expect(lagged.missed).toBeGreaterThan(0);
      // Everything buffered before the notice still arrives; nothing more does.
      await slow.next(() => slow.results().length + (lagged.missed as number) >= total, 30_000);
      await sleep(500);
      expect(slow.results().length + (lagged.missed as number)).toBe(total);
      expect(fast.messages.some((m) => m.type === 'lagged')).toBe(false);
      slow.close();
      fast.close();
    } finally {
      await publisher.close();
      await gw.stop();
    }
  });

  it('with slowClientPolicy=disconnect, a client that falls behind is closed with 4409', async () => {
    const gw = await startGateway('gw-slow-dc', { sendQueueMax: 5, slowClientPolicy: 'disconnect' });
    const publisher = new ResultPublisher(gw.config);
    try {
      const slow = await TestClient.connect(gw.ws, gw.token(['subscribe']));
      await slow.next((m) => m.type === 'welcome');
      slow.send({ type: 'subscribe', tasks: ['entities'] });
      await slow.next((m) => m.type === 'subscribed');
      slow.ws.pause();
      const text = 'Grace Hopper in Arlington. '.repeat(5000);
      for (let i = 0; i < 150; i += 10) {
        await publisher.send(Array.from({ length: 10 }, (_, j) => publisher.entities(`dc-${i + j}`, null, text, [])));
      }
      slow.ws.resume();
      expect((await slow.closed).code).toBe(closeCodes.SLOW_CLIENT);
    } finally {
      await publisher.close();
      await gw.stop();
    }
  });
});
