/**
 * API tokens. A token is `trd_<id>_<secret>`: a public id (to find its record) and 32 random bytes
 * (base64url). Only the secret's SHA-256 is stored (a high-entropy secret needs no slow hash); the
 * check uses a constant-time compare. The store is one JSON file (mode 0600), re-read when it
 * changes on disk, so `trident token revoke` reaches a running gateway within a second.
 *
 * Every token belongs to one tenant; tokens from a file written before tenants existed (version 1)
 * belong to the `default` tenant.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { TridentError } from '../common/errors';
import { DEFAULT_TENANT } from './tenants';

/** `admin` widens `subscribe` to every tenant's results; `feedback` sends corrections to the feedback topic. */
export const scopes = ['submit', 'subscribe', 'feedback', 'admin'] as const;
export type Scope = (typeof scopes)[number];

const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface TokenRecord {
  id: string;
  name: string;
  tenant: string;
  scopes: Scope[];
  /** `sha256:<hex>` of the secret part. */
  hash: string;
  createdAt: string;
  revokedAt?: string;
}

const tokenFile = z.object({
  version: z.union([z.literal(1), z.literal(2)]),
  tokens: z.array(
    z.object({
      id: z.string().regex(/^[0-9a-f]{12}$/),
      name: z.string(),
      // Version 1 had no tenants: its tokens migrate to the default tenant (written back on the next change).
      tenant: z.string().regex(TENANT_PATTERN).default(DEFAULT_TENANT),
      scopes: z.array(z.enum(scopes)),
      hash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
      createdAt: z.string(),
      revokedAt: z.string().optional(),
    }),
  ),
});

const TOKEN_PATTERN = /^trd_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export type VerifyResult =
  { ok: true; token: TokenRecord } | { ok: false; reason: 'missing' | 'malformed' | 'unknown' | 'revoked' | 'mismatch' };

export class TokenStoreError extends TridentError {}

function fileVersion(file: string): string {
  const st = statSync(file);
  return `${st.ino}:${st.mtimeMs}:${st.size}`;
}

function hashSecret(secret: string): string {
  return 'sha256:' + createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Checks a tenant name. @throws TokenStoreError naming the rule. */
export function parseTenant(value: string): string {
  if (!TENANT_PATTERN.test(value))
    throw new TokenStoreError(
      'TOKEN_TENANT_INVALID',
      `tenant ${JSON.stringify(value)} is not valid: use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  return value;
}

/** Parses a comma-separated scope list (`submit,subscribe`). @throws TokenStoreError on an unknown scope. */
export function parseScopes(value: string): Scope[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = list.filter((s) => !(scopes as readonly string[]).includes(s));
  if (unknown.length > 0 || list.length === 0) {
    throw new TokenStoreError(
      'TOKEN_SCOPE_INVALID',
      `unknown or missing scope ${unknown.map((s) => JSON.stringify(s)).join(', ') || '(none)'}; valid scopes: ${scopes.join(', ')}`,
    );
  }
  if (list.includes('admin') && !list.includes('subscribe')) {
    throw new TokenStoreError(
      'TOKEN_SCOPE_INVALID',
      'the admin scope widens subscribe to every tenant: give it with subscribe (e.g. --scopes subscribe,admin)',
    );
  }
  return [...new Set(list)] as Scope[];
}

/**
 * Refuses a token file that others can read or change: the hashes are not secrets worth much, but
 * whoever can write the file can mint tokens. @throws TokenStoreError naming the file and the fix.
 */
export function checkTokenFilePermissions(file: string): void {
  if (!existsSync(file)) return;
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new TokenStoreError(
      'TOKEN_FILE_PERMISSIONS',
      `${file} is accessible by group or others (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${file}`,
    );
  }
}

export class TokenStore {
  private tokens: TokenRecord[] = [];
  private loadedVersion = '';
  private lastCheck = -Infinity;
  private generationCount = 0;

  constructor(
    readonly file: string,
    private readonly now: () => number = Date.now,
    /** How often (ms) `verify` looks at the file's mtime. */
    private readonly recheckMs = 1000,
  ) {
    this.reload();
  }

  /** Re-reads the file when it changed. Synchronous (small file). @throws TokenStoreError when it is not a token file. */
  reload(): boolean {
    if (!existsSync(this.file)) {
      const changed = this.tokens.length > 0;
      this.tokens = [];
      this.loadedVersion = '';
      if (changed) this.generationCount += 1;
      return changed;
    }
    // Writes replace the file (rename), so the inode changes even within one mtime tick.
    const version = fileVersion(this.file);
    if (version === this.loadedVersion) return false;
    let parsed: z.infer<typeof tokenFile>;
    try {
      parsed = tokenFile.parse(JSON.parse(readFileSync(this.file, 'utf8')));
    } catch (cause) {
      throw new TokenStoreError('TOKEN_FILE_INVALID', `${this.file} is not a Trident token file: ${(cause as Error).message}`, { cause });
    }
    this.tokens = parsed.tokens;
    this.loadedVersion = version;
    this.generationCount += 1;
    return true;
  }

  /**
   * Grows by one each time the tokens were re-read. Watchers (closing revoked sockets) compare it
   * with the value they saw last, so a change picked up by `verify` is not lost to them.
   */
  get generation(): number {
    return this.generationCount;
  }

  /** Reloads when the file changed, at most every `recheckMs`; true when it did. Never throws (keeps the last good tokens). */
  refresh(): boolean {
    const t = this.now();
    if (t - this.lastCheck < this.recheckMs) return false;
    this.lastCheck = t;
    try {
      return this.reload();
    } catch {
      return false;
    }
  }

  /** Reloads when the file changed, now (a stat when it did not). Never throws (keeps the last good tokens). */
  poll(): void {
    this.lastCheck = this.now();
    try {
      this.reload();
    } catch {
      // Keep the last good tokens.
    }
  }

  list(): TokenRecord[] {
    return this.tokens.map((t) => ({ ...t, scopes: [...t.scopes] }));
  }

  /** Creates a token of `tenant`; returns the plain token (shown once) and its record. Writes the file. */
  create(tokenScopes: Scope[], name?: string, tenant: string = DEFAULT_TENANT): { token: string; record: TokenRecord } {
    parseTenant(tenant);
    this.reload();
    let id: string;
    do id = randomBytes(6).toString('hex');
    while (this.tokens.some((t) => t.id === id));
    const secret = randomBytes(32).toString('base64url');
    const record: TokenRecord = {
      id,
      name: name ?? `token-${id}`,
      tenant,
      scopes: [...new Set(tokenScopes)],
      hash: hashSecret(secret),
      createdAt: new Date(this.now()).toISOString(),
    };
    this.tokens.push(record);
    this.save();
    return { token: `trd_${id}_${secret}`, record };
  }

  /** Revokes by id or name; returns the revoked records. Writes the file. */
  revoke(idOrName: string): TokenRecord[] {
    this.reload();
    const hit = this.tokens.filter((t) => !t.revokedAt && (t.id === idOrName || t.name === idOrName));
    const at = new Date(this.now()).toISOString();
    for (const t of hit) t.revokedAt = at;
    if (hit.length > 0) this.save();
    return hit;
  }

  /** Checks a presented token. Constant-time in the secret; never throws. */
  verify(presented: string | undefined | null): VerifyResult {
    this.refresh();
    if (!presented) return { ok: false, reason: 'missing' };
    const match = TOKEN_PATTERN.exec(presented);
    if (!match) return { ok: false, reason: 'malformed' };
    let record = this.tokens.find((t) => t.id === match[1]);
    if (!record) {
      // A token created a moment ago by `trident token create`: look at the file now, not in a second.
      this.lastCheck = this.now();
      try {
        if (this.reload()) record = this.tokens.find((t) => t.id === match[1]);
      } catch {
        // Keep the last good tokens.
      }
    }
    // Hash and compare even for unknown ids, so timing says nothing about which ids exist.
    const expected = Buffer.from(record?.hash ?? 'sha256:' + '0'.repeat(64));
    const actual = Buffer.from(hashSecret(match[2]!));
    const equal = expected.length === actual.length && timingSafeEqual(expected, actual);
    if (!record) return { ok: false, reason: 'unknown' };
    if (!equal) return { ok: false, reason: 'mismatch' };
    if (record.revokedAt) return { ok: false, reason: 'revoked' };
    return { ok: true, token: record };
  }

  /** Is this token id still valid (not revoked, still in the file)? */
  isActive(id: string): boolean {
    const t = this.tokens.find((r) => r.id === id);
    return t !== undefined && !t.revokedAt;
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 2, tokens: this.tokens }, null, 2) + '\n', { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
    this.loadedVersion = fileVersion(this.file);
    this.generationCount += 1;
  }
}
