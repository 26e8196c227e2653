/**
 * Tenant isolation, revocation under traffic, bounded replies and connection caps, against the real
 * broker and registry (a stand-in plays the processor: it copies each input's tenant to its results,
 * like the processor does).
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { closeCodes } from '../../gateway/protocol';
import { TokenStore } from '../../gateway/tokens';
import { cli, createTestTopics, runCli, testConfig } from './harness';
import { startGateway, startStandInProcessor, TestClient, type TestGateway } from './gateway-helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('gateway: tenants', () => {
  let gw: TestGateway;
  let standIn: Awaited<ReturnType<typeof startStandInProcessor>>;
  beforeAll(async () => {
    gw = await startGateway('gw-tenants');
    standIn = await startStandInProcessor(gw.config);
  });
  afterAll(async () => {
    await standIn?.stop();
    await gw?.stop();
  });

  const post = (token: string, body: unknown, wait = 20_000) =>
    fetch(`${gw.http}/v1/texts?wait=${wait}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });

  it('two tenants submitting the same id over HTTP ?wait each get only their own result', async () => {
    const acme = gw.token(['submit'], 'acme');
    const globex = gw.token(['submit'], 'globex');
    const [a, b] = await Promise.all([
      post(acme, { id: 'same-http', text: 'Ada wrote to acme.', tasks: ['entities'] }),
      post(globex, { id: 'same-http', text: 'Grace wrote to globex.', tasks: ['entities'] }),
    ]);
    const bodyA = (await a.json()) as { results: Record<string, { entities: { text: string; tenant: string } }>; complete: boolean };
    const bodyB = (await b.json()) as typeof bodyA;
    expect(bodyA.complete).toBe(true);
    expect(bodyB.complete).toBe(true);
    expect(bodyA.results['same-http']!.entities).toMatchObject({ text: 'Ada wrote to acme.', tenant: 'acme' });
    expect(bodyB.results['same-http']!.entities).toMatchObject({ text: 'Grace wrote to globex.', tenant: 'globex' });
    // The events went out under the tokens' tenants.
    expect(
      standIn.seen
        .filter((e) => e.id === 'same-http')
        .map((e) => e.tenant)
        .sort(),
    ).toEqual(['acme', 'globex']);
  });

  it('over WebSocket, each tenant sees only its own results; an admin token sees both; a client-sent tenant is refused', async () => {
    const a = await TestClient.connect(gw.ws, gw.token(['submit', 'subscribe'], 'acme'));
    const b = await TestClient.connect(gw.ws, gw.token(['submit', 'subscribe'], 'globex'));
    const admin = await TestClient.connect(gw.ws, gw.token(['subscribe', 'admin'], 'ops'));
    for (const c of [a, b, admin]) {
      await c.next((m) => m.type === 'welcome');
      c.send({ type: 'subscribe', ref: 'all', tasks: ['sentiment'] });
      await c.next((m) => m.type === 'subscribed');
    }
    a.send({ type: 'submit', ref: 'x', text: { id: 'same-ws', text: 'acme is good', tasks: ['sentiment'] } });
    b.send({ type: 'submit', ref: 'y', text: { id: 'same-ws', text: 'globex is awful', tasks: ['sentiment'] } });
    await a.next((m) => m.type === 'result');
    await b.next((m) => m.type === 'result');
    await admin.next((m) => m.type === 'result' && (m.data as { tenant: string }).tenant === 'acme');
    await admin.next((m) => m.type === 'result' && (m.data as { tenant: string }).tenant === 'globex');
    b.send({ type: 'submit', ref: 'z', text: { text: 'posing as acme', tenant: 'acme' } });
    expect(await b.next((m) => m.type === 'error' && m.ref === 'z')).toMatchObject({
      code: 'INVALID_TEXT',
      rejections: [{ index: 0, code: 'TENANT_MISMATCH' }],
    });
    await sleep(500); // anything misrouted would have arrived by now
    const seen = (c: TestClient) =>
      c.results().map((r) => `${(r.data as unknown as { tenant: string }).tenant}:${(r.data as unknown as { label: string }).label}`);
    expect(seen(a)).toEqual(['acme:positive']);
    expect(seen(b)).toEqual(['globex:negative']);
    expect(seen(admin).sort()).toEqual(['acme:positive', 'globex:negative']);
    for (const c of [a, b, admin]) c.close();
  });

  it('a submit-only token reads nothing: no subscription, and another tenant’s id waits only for its own text', async () => {
    const victim = gw.token(['submit', 'subscribe'], 'victim');
    const first = await post(victim, { id: 'secret-1', text: 'The victim’s private text.', tasks: ['entities'] });
    expect(((await first.json()) as { complete: boolean }).complete).toBe(true);
    const snooper = gw.token(['submit'], 'snooper');
    const c = await TestClient.connect(gw.ws, snooper);
    await c.next((m) => m.type === 'welcome');
    c.send({ type: 'subscribe', ref: 's' });
    expect(await c.next((m) => m.ref === 's')).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    // Re-using the victim's id (and waiting) yields the snooper's own result, never the victim's text.
    const res = await post(snooper, { id: 'secret-1', text: 'Snooper text.', tasks: ['entities'] });
    const raw = await res.text();
    expect(raw).not.toContain('private');
    expect(JSON.parse(raw).results['secret-1'].entities).toMatchObject({ text: 'Snooper text.', tenant: 'snooper' });
    c.close();
  });
});

describe('gateway: revocation, caps and bounded replies', () => {
  it('revocation closes a socket within a second while other requests keep verifying tokens', async () => {
    const gw = await startGateway('gw-revoke');
    try {
      const busy = gw.token(['submit']);
      const { token } = gw.tokens.create(['subscribe'], 'doomed');
      const doomed = await TestClient.connect(gw.ws, token);
      await doomed.next((m) => m.type === 'welcome');
      // Continuous traffic: every request makes the gateway verify a token (and so look at the file).
      let stop = false;
      const traffic = (async () => {
        while (!stop)
          await fetch(`${gw.http}/v1/texts`, { method: 'POST', headers: { Authorization: `Bearer ${busy}` }, body: '{' }).then((r) =>
            r.arrayBuffer(),
          );
      })();
      await sleep(1500);
      const revokedAt = Date.now();
      new TokenStore(gw.config.gateway.tokensFile).revoke('doomed');
      const closed = await doomed.closed;
      const took = Date.now() - revokedAt;
      stop = true;
      await traffic;
      expect(closed.code).toBe(closeCodes.UNAUTHORIZED);
      expect(took).toBeLessThan(1000);
    } finally {
      await gw.stop();
    }
  });

  it('answers every refused token with the same 401 body', async () => {
    const gw = await startGateway('gw-401');
    try {
      const { token, record } = gw.tokens.create(['submit'], 'soon-revoked');
      const wrongSecret = token.slice(0, 17) + 'A'.repeat(43);
      const unknownId = 'trd_000000000000_' + token.slice(17);
      gw.tokens.revoke(record.id);
      const bodies = new Set<string>();
      for (const t of [undefined, 'nonsense', wrongSecret, unknownId, token]) {
        const res = await fetch(`${gw.http}/v1/texts`, {
          method: 'POST',
          headers: t ? { Authorization: `Bearer ${t}` } : {},
          body: '{"text":"x"}',
        });
        expect(res.status).toBe(401);
        bodies.add(await res.text());
      }
      expect(bodies.size).toBe(1);
    } finally {
      await gw.stop();
    }
  });

  it('caps sockets that have not authenticated yet (503 beyond the cap)', async () => {
    const gw = await startGateway('gw-cap', { maxUnauthenticatedSockets: 3 });
    try {
      const waiting = await Promise.all([1, 2, 3].map(() => TestClient.connect(gw.ws)));
      await expect(TestClient.connect(gw.ws)).rejects.toThrow(/HTTP 503/);
      // An authenticated socket is not held back by the cap.
      const ok = await TestClient.connect(gw.ws, gw.token(['subscribe']));
      await ok.next((m) => m.type === 'welcome');
      waiting[0]!.close();
      await waiting[0]!.closed;
      await sleep(100);
      const next = await TestClient.connect(gw.ws);
      for (const c of [...waiting, ok, next]) c.close();
    } finally {
      await gw.stop();
    }
  });
});

describe('trident gateway (a process): memory and the token file', () => {
  function startProcess(tokensFile: string, env: NodeJS.ProcessEnv) {
    const child = spawn(process.execPath, [cli, 'gateway', '--port', '0'], {
      env: { ...process.env, ...env, TRIDENT_GATEWAY_TOKENS_FILE: tokensFile, TRIDENT_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const listening = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening" line in 30 s: ${stderr}`)), 30_000);
      child.stderr.on('data', () => {
        const m = /listening on http:\/\/(127\.0\.0\.1:\d+)\//.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.on('exit', () => reject(new Error(stderr)));
    });
    return { child, exited, listening, stderr: () => stderr };
  }
  const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

  it('refuses to start when the token file is readable by others, naming the file and the fix', async () => {
    const { env } = testConfig('gw-perm');
    const tokensFile = join(mkdtempSync(join(tmpdir(), 'trident-gw-')), 'tokens.json');
    new TokenStore(tokensFile).create(['submit']);
    chmodSync(tokensFile, 0o644);
    const result = await runCli(['gateway', '--port', '0'], { ...env, TRIDENT_GATEWAY_TOKENS_FILE: tokensFile });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`${tokensFile} is accessible by group or others (mode 0644); run: chmod 600 ${tokensFile}`);
  });

  it('a client that never reads and sends 1 MB frames of junk keys keeps the gateway’s RSS bounded', async () => {
    const { config, env } = testConfig('gw-junk');
    await createTestTopics(config);
    const tokensFile = join(mkdtempSync(join(tmpdir(), 'trident-gw-')), 'tokens.json');
    const token = new TokenStore(tokensFile).create(['submit', 'subscribe']).token;
    const gw = startProcess(tokensFile, env);
    try {
      const address = await gw.listening;
      await sleep(1000);
      const before = rssMiB(gw.child.pid!);
      // Never reads: its socket is paused, so every reply stays in the gateway.
      const ws = new WebSocket(`ws://${address}/v1/ws`, ['trident.v1', `bearer.${token}`], { perMessageDeflate: false });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const keys = Array.from({ length: 1000 }, (_, i) => `"junk-${i}-${'k'.repeat(1000)}":1`).join(',');
      const frame = `{"v":1,"type":"ping",${keys}}`; // ~1 MB, under maxMessageBytes
      const frames = 300;
      for (let i = 0; i < frames; i++) {
        await new Promise<void>((resolve, reject) => ws.send(frame, (error) => (error ? reject(error) : resolve())));
      }
      await sleep(2000);
      const after = rssMiB(gw.child.pid!);
      ws.terminate();
      // Echoing the keys would have held ~300 MB of replies; bounded replies are ~300 bytes each.
      expect(after - before).toBeLessThan(100);
    } finally {
      gw.child.kill('SIGTERM');
      await gw.exited;
    }
  });
});
