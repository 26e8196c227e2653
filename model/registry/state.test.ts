import {
  applyRecord,
  displayStatus,
  emptyState,
  looksLikeVersionRef,
  productionVersion,
  recordKey,
  resolveVersion,
  rollbackTarget,
  type ModelRecord,
  type RegistryState,
} from './state';

const rec = (version: string, status: ModelRecord['status'], extra: Partial<ModelRecord> = {}): ModelRecord => ({
  name: 'm',
  version,
  artifactDigest: `d${version}`,
  location: `/store/${version}`,
  metrics: {},
  status,
  createdAt: 1000,
  promotedAt: null,
  reason: null,
  changedBy: null,
  changedAt: null,
  previousVersion: null,
  forced: false,
  ...extra,
});

function replay(records: ModelRecord[]): RegistryState {
  return records.reduce((s, r, i) => applyRecord(s, recordKey(r.name, r.version), r, BigInt(i)), emptyState());
}

describe('registry state', () => {
  it('the last production record wins; earlier production versions show as retired', () => {
    const s = replay([
      rec('1.0.0', 'candidate'),
      rec('1.1.0', 'candidate'),
      rec('1.0.0', 'production'),
      rec('1.1.0', 'production', { previousVersion: '1.0.0' }),
    ]);
    expect(productionVersion(s)?.record.version).toBe('1.1.0');
    expect(displayStatus(s, s.versions.get('m:1.0.0')!)).toBe('retired');
    expect(displayStatus(s, s.versions.get('m:1.1.0')!)).toBe('production');
  });

  it('two racing promotions: the later offset decides, for every reader', () => {
    const s = replay([rec('1.0.0', 'candidate'), rec('1.1.0', 'candidate'), rec('1.1.0', 'production'), rec('1.0.0', 'production')]);
    expect(productionVersion(s)?.record.version).toBe('1.0.0');
  });

  it('a version rejected after its promotion hands production back to the one before', () => {
    const s = replay([
      rec('1.0.0', 'production'),
      rec('2.0.0', 'production', { previousVersion: '1.0.0' }),
      rec('2.0.0', 'rejected', { reason: 'digest' }),
    ]);
    expect(productionVersion(s)?.record.version).toBe('1.0.0');
    expect(displayStatus(s, s.versions.get('m:2.0.0')!)).toBe('rejected');
  });

  it('gives the same answer from the compacted log (last record per key only)', () => {
    const full = [
      rec('1.0.0', 'candidate'),
      rec('1.1.0', 'candidate'),
      rec('1.0.0', 'production'),
      rec('1.1.0', 'production', { previousVersion: '1.0.0' }),
      rec('1.0.0', 'production', { previousVersion: '1.1.0' }),
    ];
    const compacted = full.map((r, i) => ({ r, i })).filter(({ r, i }) => !full.slice(i + 1).some((later) => later.version === r.version));
    const s = compacted.reduce((st, { r, i }) => applyRecord(st, recordKey(r.name, r.version), r, BigInt(i)), emptyState());
    expect(productionVersion(s)?.record.version).toBe(productionVersion(replay(full))?.record.version);
  });

  it('a legacy `promoted` record counts as production', () => {
    expect(productionVersion(replay([rec('0.9.0', 'promoted')]))?.record.version).toBe('0.9.0');
  });

  it('resolves 1.1.0, NAME@1.1.0 and production; an unknown version names what is registered', () => {
    const s = replay([rec('1.0.0', 'candidate'), rec('1.1.0', 'production')]);
    expect(resolveVersion(s, { version: '1.0.0' }).record.version).toBe('1.0.0');
    expect(resolveVersion(s, { name: 'm', version: 'production' }).record.version).toBe('1.1.0');
    expect(() => resolveVersion(s, { version: '9.9.9' })).toThrow('unknown model version 9.9.9 (registered: m@1.0.0, m@1.1.0)');
    expect(() => resolveVersion(s, { name: 'other', version: '1.0.0' })).toThrow(/unknown model version other@1.0.0/);
  });

  it('a bare version registered under two names is ambiguous', () => {
    const s = replay([rec('1.0.0', 'candidate'), { ...rec('1.0.0', 'candidate'), name: 'n' }]);
    expect(() => resolveVersion(s, { version: '1.0.0' })).toThrow(/NAME@1.0.0/);
  });

  it('rollback returns to the version the current one replaced', () => {
    const s = replay([rec('1.0.0', 'production'), rec('1.1.0', 'production', { previousVersion: '1.0.0' })]);
    expect(rollbackTarget(s).to.record.version).toBe('1.0.0');
    expect(() => rollbackTarget(replay([rec('1.0.0', 'production')]))).toThrow(/nothing to roll back to/);
  });

  it('tells version references from folders', () => {
    for (const ref of ['1.1.0', 'trident-multitask@1.1.0', 'production', 'm@production', '1.2.0-rc.1'])
      expect(looksLikeVersionRef(ref)).toBe(true);
    for (const dir of ['model/artifacts/x', './1.1.0', '/tmp/a', 'model/test-artifact']) expect(looksLikeVersionRef(dir)).toBe(false);
  });
});
