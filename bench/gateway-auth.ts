/**
 * Unauthenticated and wrong-token attempts against the gateway: every one must be refused.
 *
 *   npm run build && node dist/bench/gateway-auth.js [--attempts 500]
 *
 * Kinds (each `--attempts` times, over HTTP POST /v1/texts and the WebSocket endpoint): no token,
 * a well-formed random token, a malformed token, a revoked token, a right token with a wrong secret,
 * a token without the needed scope; plus a few sockets that never authenticate (closed on the auth
 * timeout). Baseline in the same run: the same number of requests with a valid token, all accepted.
 * Prints refused / attempted per kind and the gateway's own count (trident_gateway_auth_failures_total).
 *
 * Cross-tenant reads (results are published straight to the result topic, as the processor would):
 * tenant B submits tenant A's ids with `?wait` while A's results arrive (it must get none of them);
 * a tenant-B subscriber and a tenant-B socket that submitted the same ids watch A's results flow
 * (they must get none). Baselines in the same run: A's own waits and subscriber get every result.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { createKafka } from '../common/kafka';
import { TridentProducer } from '../producers/producer';
import { EventCodec } from '../schemas/codec';
import { args, metricSum, sleep, startGatewayProcess } from './gateway-common';

type Outcome = 'refused' | 'accepted' | 'error';

async function main(): Promise<void> {
  const a = args();
  const attempts = Number(a.get('attempts') ?? 500);
  const gw = await startGatewayProcess('auth', {
    TRIDENT_GATEWAY_REQUESTS_PER_MINUTE_PER_TOKEN: '1000000',
    TRIDENT_GATEWAY_MAX_SOCKETS_PER_TOKEN: '100000',
  });
  const valid = gw.tokens.create(['submit', 'subscribe'], 'valid').token;
  const subscribeOnly = gw.tokens.create(['subscribe'], 'subscribe-only').token;
  const submitOnly = gw.tokens.create(['submit'], 'submit-only').token;
  const revoked = gw.tokens.create(['submit', 'subscribe'], 'revoked');
  gw.tokens.revoke('revoked');
  const randomToken = () => `trd_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`;
  const wrongSecret = () => valid.slice(0, 17) + randomBytes(32).toString('base64url');
  const before = await metricSum(gw.http, 'trident_gateway_auth_failures_total');

  const http = async (token: string | undefined, expectStatus: number): Promise<Outcome> => {
    const res = await fetch(`${gw.http}/v1/texts`, {
      method: 'POST',
      headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
      body: JSON.stringify({ text: 'bench' }),
    });
    const body = await res.text();
    if (res.status === expectStatus) return 'refused';
    if (res.status !== 202) console.error(`unexpected HTTP ${res.status}: ${body.slice(0, 300)}`);
    return res.status === 202 ? 'accepted' : 'error';
  };
  /** A socket is refused when the upgrade gets 401, or it is closed with 4401 before any welcome. */
  const ws = (token: string | undefined, via: 'header' | 'subprotocol' | 'message', action?: Record<string, unknown>): Promise<Outcome> =>
    new Promise((resolve) => {
      const socket =
        via === 'header'
          ? new WebSocket(gw.ws, ['trident.v1'], { headers: { Authorization: `Bearer ${token}` } })
          : via === 'subprotocol'
            ? new WebSocket(gw.ws, ['trident.v1', `bearer.${token}`])
            : new WebSocket(gw.ws, ['trident.v1']);
      let welcomed = false;
      const done = (o: Outcome) => {
        socket.terminate();
        resolve(o);
      };
      socket.on('unexpected-response', (_req, res) => done(res.statusCode === 401 ? 'refused' : 'error'));
      socket.on('error', () => undefined);
      socket.on('open', () => {
        if (via === 'message') socket.send(JSON.stringify({ v: 1, type: 'auth', token }));
      });
      socket.on('message', (data) => {
        const m = JSON.parse(data.toString()) as { type: string; code?: string };
        if (m.type === 'welcome') {
          welcomed = true;
          if (!action) return done('accepted');
          socket.send(JSON.stringify({ v: 1, ...action }));
        } else if (m.type === 'error' && m.code === 'FORBIDDEN') done('refused');
        else if (m.type === 'subscribed' || m.type === 'accepted') done('accepted');
      });
      socket.on('close', (code) => done(code === 4401 || code === 4408 ? 'refused' : welcomed ? 'accepted' : 'error'));
    });

  const kinds: Array<[string, () => Promise<Outcome>]> = [
    ['http: no token', () => http(undefined, 401)],
    ['http: random token', () => http(randomToken(), 401)],
    ['http: malformed token', () => http('Basic-nonsense', 401)],
    ['http: wrong secret', () => http(wrongSecret(), 401)],
    ['http: revoked token', () => http(revoked.token, 401)],
    ['http: no submit scope', () => http(subscribeOnly, 403)],
    ['ws header: random token', () => ws(randomToken(), 'header')],
    ['ws subprotocol: random token', () => ws(randomToken(), 'subprotocol')],
    ['ws subprotocol: wrong secret', () => ws(wrongSecret(), 'subprotocol')],
    ['ws auth message: malformed', () => ws('nonsense', 'message')],
    ['ws auth message: revoked', () => ws(revoked.token, 'message')],
    ['ws: subscribe without scope', () => ws(submitOnly, 'subprotocol', { type: 'subscribe' })],
    ['ws: submit without scope', () => ws(subscribeOnly, 'subprotocol', { type: 'submit', text: { text: 'x' } })],
  ];
  const rows: Array<{ kind: string; attempted: number; refused: number; ms: number }> = [];
  const run = async (fn: () => Promise<Outcome>, n: number) => {
    const outcomes: Outcome[] = [];
    for (let i = 0; i < n; i += 50) outcomes.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, fn))));
    return outcomes;
  };
  for (const [kind, fn] of kinds) {
    const t = performance.now();
    const outcomes = await run(fn, attempts);
    rows.push({ kind, attempted: outcomes.length, refused: outcomes.filter((o) => o === 'refused').length, ms: performance.now() - t });
  }
  // Sockets that never authenticate are closed at the auth timeout (10 s): a few, all at once.
  const idle = await Promise.all(
    Array.from(
      { length: 20 },
      () =>
        new Promise<Outcome>((resolve) => {
          const s = new WebSocket(gw.ws, ['trident.v1']);
          s.on('error', () => undefined);
          s.on('close', (code) => resolve(code === 4408 ? 'refused' : 'error'));
        }),
    ),
  );
  rows.push({ kind: 'ws: never authenticates', attempted: idle.length, refused: idle.filter((o) => o === 'refused').length, ms: 0 });

  // Baseline: the same traffic with a valid token is accepted.
  const t = performance.now();
  const okHttp = await run(() => http(valid, 0), attempts);
  const okWs = await run(() => ws(valid, 'subprotocol'), attempts);
  const baselineMs = performance.now() - t;
  const accepted = [...okHttp, ...okWs].filter((o) => o === 'accepted').length;

  const counted = (await metricSum(gw.http, 'trident_gateway_auth_failures_total')) - before;

  // ---- cross-tenant reads ----
  const producer = new TridentProducer(createKafka(gw.config, 'trident-bench'), EventCodec.fromConfig(gw.config), gw.config);
  await producer.connect();
  const tenantA = gw.tokens.create(['submit', 'subscribe'], 'tenant-a', 'tenant-a').token;
  const tenantB = gw.tokens.create(['submit', 'subscribe'], 'tenant-b', 'tenant-b').token;
  const submitOnlyB = gw.tokens.create(['submit'], 'tenant-b-submit', 'tenant-b').token;
  const publishA = async (ids: string[]) => {
    const now = Date.now();
    await producer.send(
      ids.map((id) => ({
        kind: 'sentiment' as const,
        key: id,
        event: {
          id,
          key: id,
          tenant: 'tenant-a',
          modelName: 'bench',
          modelVersion: '1',
          createdAt: now,
          processedAt: now,
          label: 'positive',
          scores: { positive: 1 },
        },
      })),
    );
  };
  /** POSTs each id with ?wait while tenant A's results for those ids are published; counts responses that hold a result. */
  const waitFor = async (token: string, ids: string[]): Promise<number> => {
    const posts = ids.map((id) =>
      fetch(`${gw.http}/v1/texts?wait=2000`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
        body: JSON.stringify({ id, text: 'cross-tenant probe', tasks: ['sentiment'] }),
      }).then(async (r) => {
        const body = (await r.json()) as { results?: Record<string, { sentiment?: { tenant: string } }> };
        return body.results?.[id]?.sentiment !== undefined;
      }),
    );
    await sleep(300); // the waits are registered
    await publishA(ids);
    return (await Promise.all(posts)).filter(Boolean).length;
  };
  let waitLeaks = 0;
  let waitBaseline = 0;
  let round = 0;
  for (let i = 0; i < attempts; i += 50, round++) {
    const n = Math.min(50, attempts - i);
    // B first (A's ids; A never submits them, so nothing but the published results could answer), then A's own.
    waitLeaks += await waitFor(
      submitOnlyB,
      Array.from({ length: n }, (_, j) => `a-wait-${round}-${j}`),
    );
    waitBaseline += await waitFor(
      tenantA,
      Array.from({ length: n }, (_, j) => `a-own-${round}-${j}`),
    );
  }
  const socket = (token: string) =>
    new Promise<{ ws: WebSocket; results: number }>((resolve, reject) => {
      const ws = new WebSocket(gw.ws, ['trident.v1', `bearer.${token}`]);
      const state = { ws, results: 0 };
      ws.on('error', reject);
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as { type: string };
        if (m.type === 'welcome') ws.send(JSON.stringify({ v: 1, type: 'subscribe', tasks: ['sentiment'] }));
        else if (m.type === 'subscribed') resolve(state);
        else if (m.type === 'result') state.results += 1;
      });
    });
  const subscriberA = await socket(tenantA);
  const subscriberB = await socket(tenantB);
  // A tenant-B socket that submits the very ids A's results will carry (routed back to it, if ids were global).
  const routedB = await new Promise<{ ws: WebSocket; results: number }>((resolve, reject) => {
    const ws = new WebSocket(gw.ws, ['trident.v1', `bearer.${submitOnlyB}`]);
    const state = { ws, results: 0 };
    ws.on('error', reject);
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type: string };
      if (m.type === 'welcome')
        ws.send(
          JSON.stringify({
            v: 1,
            type: 'submit',
            texts: Array.from({ length: Math.min(100, attempts) }, (_, j) => ({ id: `a-sub-${j}`, text: 'probe', tasks: ['sentiment'] })),
          }),
        );
      else if (m.type === 'accepted') resolve(state);
      else if (m.type === 'result') state.results += 1;
    });
  });
  const streamed = Array.from({ length: attempts }, (_, j) => `a-sub-${j}`);
  for (let i = 0; i < streamed.length; i += 100) await publishA(streamed.slice(i, i + 100));
  const deadline = Date.now() + 30_000;
  while (subscriberA.results < streamed.length && Date.now() < deadline) await sleep(100);
  await sleep(1000); // anything misrouted would have arrived too
  for (const s of [subscriberA, subscriberB, routedB]) s.ws.terminate();
  await producer.disconnect();
  const routedAttempts = Math.min(100, attempts);
  const crossRows = [
    { kind: 'http ?wait on another tenant’s ids', attempted: attempts, read: waitLeaks },
    { kind: 'ws subscription of another tenant', attempted: streamed.length, read: subscriberB.results },
    { kind: 'ws submit of another tenant’s ids', attempted: routedAttempts, read: routedB.results },
  ];
  console.log(`${'attempt'.padEnd(32)} ${'refused'.padStart(14)}  ${'rate'.padStart(7)}`);
  let totalAttempted = 0;
  let totalRefused = 0;
  for (const r of rows) {
    totalAttempted += r.attempted;
    totalRefused += r.refused;
    console.log(
      `${r.kind.padEnd(32)} ${`${r.refused}/${r.attempted}`.padStart(14)}  ${((100 * r.refused) / r.attempted).toFixed(1).padStart(6)}%`,
    );
  }
  console.log(
    `${'all bad attempts'.padEnd(32)} ${`${totalRefused}/${totalAttempted}`.padStart(14)}  ${((100 * totalRefused) / totalAttempted).toFixed(1).padStart(6)}%`,
  );
  console.log(`baseline, valid token: ${accepted}/${okHttp.length + okWs.length} accepted in ${(baselineMs / 1000).toFixed(1)} s`);
  console.log(`gateway's trident_gateway_auth_failures_total grew by ${counted} (bad attempts made: ${totalAttempted})`);
  console.log(`\n${'cross-tenant read'.padEnd(36)} ${'succeeded'.padStart(14)}`);
  for (const r of crossRows) console.log(`${r.kind.padEnd(36)} ${`${r.read}/${r.attempted}`.padStart(14)}`);
  const leaked = crossRows.reduce((n, r) => n + r.read, 0);
  const crossAttempted = crossRows.reduce((n, r) => n + r.attempted, 0);
  console.log(`${'all cross-tenant reads'.padEnd(36)} ${`${leaked}/${crossAttempted}`.padStart(14)}`);
  console.log(
    `baseline, tenant A reading its own: ?wait ${waitBaseline}/${attempts}, subscription ${subscriberA.results}/${streamed.length}`,
  );
  await gw.stop();
  if (
    totalRefused !== totalAttempted ||
    accepted !== okHttp.length + okWs.length ||
    leaked > 0 ||
    waitBaseline !== attempts ||
    subscriberA.results !== streamed.length
  )
    process.exitCode = 1;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
