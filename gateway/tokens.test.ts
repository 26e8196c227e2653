import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chmodSync } from 'node:fs';
import { checkTokenFilePermissions, parseScopes, TokenStore } from './tokens';

const tempFile = () => join(mkdtempSync(join(tmpdir(), 'trident-tokens-')), 'sub', 'tokens.json');

describe('TokenStore', () => {
  it('creates a token, stores only its hash (file mode 0600) and verifies it', () => {
    const file = tempFile();
    const store = new TokenStore(file);
    const { token, record } = store.create(['submit', 'subscribe'], 'web');
    expect(token).toMatch(/^trd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const stored = readFileSync(file, 'utf8');
    expect(stored).not.toContain(token.split('_').slice(2).join('_'));
    expect(stored).toContain(record.hash);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const check = new TokenStore(file).verify(token);
    expect(check).toEqual({ ok: true, token: expect.objectContaining({ name: 'web', scopes: ['submit', 'subscribe'] }) });
  });

  it('refuses missing, malformed, unknown, wrong-secret and revoked tokens with a reason', () => {
    const store = new TokenStore(tempFile());
    const { token, record } = store.create(['subscribe']);
    const wrongSecret = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    expect(store.verify(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(store.verify('')).toEqual({ ok: false, reason: 'missing' });
    expect(store.verify('hunter2')).toEqual({ ok: false, reason: 'malformed' });
    expect(store.verify(`trd_000000000000_${'a'.repeat(43)}`)).toEqual({ ok: false, reason: 'unknown' });
    expect(store.verify(wrongSecret)).toEqual({ ok: false, reason: 'mismatch' });
    expect(store.revoke(record.name).map((r) => r.id)).toEqual([record.id]);
    expect(store.verify(token)).toEqual({ ok: false, reason: 'revoked' });
    expect(store.isActive(record.id)).toBe(false);
    expect(store.revoke(record.id)).toEqual([]);
  });

  it('a running store picks up tokens revoked by another process', () => {
    const file = tempFile();
    let now = 0;
    const gateway = new TokenStore(file, () => now, 1000);
    const cli = new TokenStore(file);
    const { token, record } = cli.create(['submit']);
    now += 1500;
    expect(gateway.verify(token).ok).toBe(true);
    cli.revoke(record.id);
    now += 1500;
    expect(gateway.verify(token)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('keeps the last good tokens when the file is broken, and says so on an explicit reload', () => {
    const file = tempFile();
    const store = new TokenStore(file, () => 0, 0);
    const { token } = store.create(['submit']);
    writeFileSync(file, '{oops');
    expect(store.verify(token).ok).toBe(true);
    expect(() => store.reload()).toThrow(/not a Trident token file/);
  });

  it('parses scope lists', () => {
    expect(parseScopes('submit, subscribe,submit')).toEqual(['submit', 'subscribe']);
    expect(parseScopes('subscribe,admin')).toEqual(['subscribe', 'admin']);
    expect(() => parseScopes('submit,admin')).toThrow(/give it with subscribe/);
    expect(() => parseScopes('root')).toThrow(/unknown or missing scope "root"; valid scopes: submit, subscribe, feedback, admin/);
    expect(() => parseScopes('')).toThrow(/scope/);
  });

  it('tokens of a version-1 file (before tenants) belong to the default tenant, and stay so when the file is rewritten', () => {
    const file = tempFile();
    const old = new TokenStore(file);
    const { token } = old.create(['submit']);
    const v1 = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ version: 1, tokens: v1.tokens.map(({ tenant: _t, ...t }: Record<string, unknown>) => t) }), {
      mode: 0o600,
    });
    const store = new TokenStore(file);
    expect(store.verify(token)).toMatchObject({ ok: true, token: { tenant: 'default' } });
    store.create(['subscribe'], 'new', 'acme');
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(written.version).toBe(2);
    expect(written.tokens.map((t: { tenant: string }) => t.tenant)).toEqual(['default', 'acme']);
    expect(() => store.create(['submit'], 'bad', 'no spaces')).toThrow(/tenant "no spaces" is not valid/);
  });

  it('every change to the file advances the generation, whoever read it first', () => {
    const file = tempFile();
    let now = 0;
    const gateway = new TokenStore(file, () => now, 1000);
    const cli = new TokenStore(file);
    const { token, record } = cli.create(['submit']);
    gateway.poll();
    const seen = gateway.generation;
    cli.revoke(record.id);
    now += 1500;
    // A request verifies first and picks up the change; the watcher still sees a new generation.
    expect(gateway.verify(token)).toEqual({ ok: false, reason: 'revoked' });
    expect(gateway.generation).toBeGreaterThan(seen);
  });

  it('refuses a token file that group or others can read, naming the file and the fix', () => {
    const file = tempFile();
    new TokenStore(file).create(['submit']);
    expect(() => checkTokenFilePermissions(file)).not.toThrow();
    chmodSync(file, 0o644);
    expect(() => checkTokenFilePermissions(file)).toThrow(`${file} is accessible by group or others (mode 0644); run: chmod 600 ${file}`);
    expect(() => checkTokenFilePermissions(file + '.missing')).not.toThrow();
  });
});
