import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScopes, TokenStore } from './tokens';

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
    expect(() => parseScopes('admin')).toThrow(/unknown or missing scope "admin"; valid scopes: submit, subscribe/);
    expect(() => parseScopes('')).toThrow(/scope/);
  });
});
