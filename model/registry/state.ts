/**
 * The registry's state, derived from the `trident.models` records in log order. Pure: any process
 * rebuilds the same state by reading the topic from the beginning (compacted or not), so every
 * processor agrees on the production version without a shared database.
 *
 * Rules: a version's state is its last record. The production version of a name is the version
 * whose last record has status `production` (or the legacy `promoted`) at the highest offset: the
 * last promotion wins, and when two promotions race, the log order decides. A version rejected
 * after its promotion stops being production, so the one promoted before it is production again —
 * which is what the processors keep serving. Compaction keeps the last record of each key, and so
 * keeps exactly the records these rules read.
 */
import { TridentError } from '../../common/errors';
import type { ModelVersion } from '../../schemas/generated/models';

export type ModelRecord = ModelVersion;

/** The Kafka key of a version's records. */
export function recordKey(name: string, version: string): string {
  return `${name}:${version}`;
}

/** A version as the registry knows it: its last record and where that record sits in the log. */
export interface VersionState {
  record: ModelRecord;
  offset: bigint;
  /** The first record of this version (its registration). */
  registeredAt: number;
}

export interface RegistryState {
  /** Per `name:version`. */
  versions: Map<string, VersionState>;
  /** Offset of the last record applied; -1n when none. */
  lastOffset: bigint;
}

export function emptyState(): RegistryState {
  return { versions: new Map(), lastOffset: -1n };
}

const isProduction = (status: ModelRecord['status']): boolean => status === 'production' || status === 'promoted';

/** Applies one record (at `offset`) to the state. Pure: returns a new state. A tombstone (null) removes the version. */
export function applyRecord(state: RegistryState, key: string, record: ModelRecord | null, offset: bigint): RegistryState {
  const versions = new Map(state.versions);
  if (record === null) versions.delete(key);
  else versions.set(key, { record, offset, registeredAt: versions.get(key)?.registeredAt ?? record.createdAt });
  return { versions, lastOffset: offset > state.lastOffset ? offset : state.lastOffset };
}

/** Every model name that has a version. */
export function modelNames(state: RegistryState): string[] {
  return [...new Set([...state.versions.values()].map((v) => v.record.name))].sort();
}

/** The current production version of `name` (or of the only name when omitted), or null. */
export function productionVersion(state: RegistryState, name?: string): VersionState | null {
  let best: VersionState | null = null;
  for (const v of state.versions.values()) {
    if (name !== undefined && v.record.name !== name) continue;
    if (!isProduction(v.record.status)) continue;
    if (!best || v.offset > best.offset) best = v;
  }
  if (best && name === undefined) {
    const names = modelNames(state);
    if (names.length > 1) {
      throw new TridentError(
        'MODEL_NAME_AMBIGUOUS',
        `several models are registered (${names.join(', ')}): name one as NAME@VERSION or NAME@production`,
      );
    }
  }
  return best;
}

/**
 * How a version is shown: `production` for the current one; a version promoted earlier and since
 * replaced is `retired`; otherwise its record's status.
 */
export function displayStatus(state: RegistryState, v: VersionState): string {
  const current = productionVersion(state, v.record.name);
  if (current && recordKey(current.record.name, current.record.version) === recordKey(v.record.name, v.record.version)) return 'production';
  if (isProduction(v.record.status)) return 'retired';
  return v.record.status;
}

/** Versions in registration order (then name, version). */
export function listVersions(state: RegistryState): VersionState[] {
  return [...state.versions.values()].sort(
    (a, b) =>
      a.registeredAt - b.registeredAt || a.record.name.localeCompare(b.record.name) || compareSemver(a.record.version, b.record.version),
  );
}

/** Semantic-version order of `a` and `b` (pre-release and build parts compared as text). */
export function compareSemver(a: string, b: string): number {
  const parse = (v: string) => v.split(/[-+]/)[0]!.split('.').map(Number);
  const [pa, pb] = [parse(a), parse(b)];
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return a.localeCompare(b);
}

/** A reference to a registered version as users write it: `1.1.0`, `NAME@1.1.0`, `production`, `NAME@production`. */
export interface VersionRef {
  name?: string;
  version: string;
}

export function parseVersionRef(text: string): VersionRef {
  const at = text.lastIndexOf('@');
  if (at > 0) return { name: text.slice(0, at), version: text.slice(at + 1) };
  return { version: text };
}

/** True when `text` looks like a version reference rather than a folder. */
export function looksLikeVersionRef(text: string): boolean {
  if (text === 'production') return true;
  const { name, version } = parseVersionRef(text);
  return (
    (name === undefined || /^[A-Za-z0-9._-]+$/.test(name)) &&
    (version === 'production' || /^\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]*)?$/.test(version))
  );
}

/**
 * Finds a version. Throws TridentError MODEL_VERSION_UNKNOWN naming the reference and the known
 * versions, or MODEL_NAME_AMBIGUOUS when a bare version matches several names.
 */
export function resolveVersion(state: RegistryState, ref: VersionRef): VersionState {
  const label = ref.name ? `${ref.name}@${ref.version}` : ref.version;
  if (ref.version === 'production') {
    const current = productionVersion(state, ref.name);
    if (!current)
      throw new TridentError(
        'MODEL_VERSION_UNKNOWN',
        `no production version${ref.name ? ` of ${ref.name}` : ''} in the registry (register and promote one: trident models register DIR; trident models promote VERSION)`,
      );
    return current;
  }
  const matches = [...state.versions.values()].filter(
    (v) => v.record.version === ref.version && (ref.name === undefined || v.record.name === ref.name),
  );
  if (matches.length > 1) {
    throw new TridentError(
      'MODEL_NAME_AMBIGUOUS',
      `version ${ref.version} exists for ${matches.map((m) => m.record.name).join(' and ')}: write NAME@${ref.version}`,
    );
  }
  if (matches.length === 0) {
    const known = listVersions(state).map((v) => `${v.record.name}@${v.record.version}`);
    throw new TridentError(
      'MODEL_VERSION_UNKNOWN',
      `unknown model version ${label} (registered: ${known.length ? known.join(', ') : 'none'})`,
    );
  }
  return matches[0]!;
}

/** The version a rollback returns to: the production version the current one replaced. Throws when there is none. */
export function rollbackTarget(state: RegistryState, name?: string): { from: VersionState; to: VersionState } {
  const current = productionVersion(state, name);
  if (!current) throw new TridentError('MODEL_VERSION_UNKNOWN', `no production version${name ? ` of ${name}` : ''} to roll back from`);
  const previous = current.record.previousVersion;
  if (!previous)
    throw new TridentError(
      'MODEL_NO_PREVIOUS',
      `${current.record.name}@${current.record.version} replaced no earlier production version; nothing to roll back to`,
    );
  const to = state.versions.get(recordKey(current.record.name, previous));
  if (!to)
    throw new TridentError(
      'MODEL_VERSION_UNKNOWN',
      `previous production version ${current.record.name}@${previous} is no longer in the registry`,
    );
  if (to.record.status === 'rejected')
    throw new TridentError(
      'MODEL_VERSION_REJECTED',
      `previous production version ${current.record.name}@${previous} was rejected (${to.record.reason ?? 'no reason'}); promote another version`,
    );
  return { from: current, to };
}
