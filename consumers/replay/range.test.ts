import { parseBound, parsePartitions, resolveRange } from './range';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const offsets = [
  { partition: 0, low: 0n, high: 100n },
  { partition: 1, low: 10n, high: 50n },
  { partition: 2, low: 0n, high: 0n },
];

describe('parseBound', () => {
  it('reads durations back from now', () => {
    expect(parseBound('2h', '--from', NOW)).toMatchObject({ kind: 'time', ms: NOW - 7_200_000 });
    expect(parseBound('30m', '--from', NOW)).toMatchObject({ kind: 'time', ms: NOW - 1_800_000 });
    expect(parseBound('1.5d', '--to', NOW)).toMatchObject({ kind: 'time', ms: NOW - 129_600_000 });
  });
  it('reads ISO timestamps', () => {
    expect(parseBound('2026-12-01T10:00:00Z', '--from', NOW)).toMatchObject({ kind: 'time', ms: Date.parse('2026-12-01T10:00:00Z') });
  });
  it('reads partition:offset lists', () => {
    const b = parseBound('0:5,1:20', '--from', NOW);
    expect(b.kind).toBe('offsets');
    expect(b.kind === 'offsets' && [...b.offsets]).toEqual([
      [0, 5n],
      [1, 20n],
    ]);
  });
  it('rejects anything else, naming the flag and the accepted forms', () => {
    expect(() => parseBound('yesterday', '--from', NOW)).toThrow(/--from "yesterday": expected an ISO timestamp/);
    expect(() => parseBound('12', '--to', NOW)).toThrow(/--to "12"/);
    expect(() => parseBound('0:1,0:2', '--from', NOW)).toThrow(/partition 0 is named twice/);
  });
  it('parses --partitions', () => {
    expect(parsePartitions('2,0,2')).toEqual([0, 2]);
    expect(() => parsePartitions('a')).toThrow(/--partitions/);
  });
});

describe('resolveRange', () => {
  it('defaults to the whole topic', () => {
    const r = resolveRange('t', offsets, {});
    expect(r.partitions).toEqual([
      { partition: 0, start: 0n, end: 100n },
      { partition: 1, start: 10n, end: 50n },
      { partition: 2, start: 0n, end: 0n },
    ]);
    expect(r.messages).toBe(140n);
  });
  it('reads only the partitions named by an offset list, clamped to what the topic holds', () => {
    const r = resolveRange('t', offsets, { from: parseBound('0:90,1:5', '--from', NOW), to: parseBound('0:200', '--to', NOW) });
    expect(r.partitions).toEqual([
      { partition: 0, start: 90n, end: 100n },
      { partition: 1, start: 10n, end: 50n },
    ]);
  });
  it('uses the looked-up offsets of time bounds', () => {
    const r = resolveRange(
      't',
      offsets,
      { from: parseBound('1h', '--from', NOW), partitions: [0] },
      {
        from: new Map([
          [0, 60n],
          [1, 50n],
        ]),
      },
    );
    expect(r.partitions).toEqual([{ partition: 0, start: 60n, end: 100n }]);
  });
  it('fails on an empty range, a start past the end and an unknown partition', () => {
    expect(() => resolveRange('t', offsets, { partitions: [2] })).toThrow(
      /nothing to replay in t \(from the beginning, to the end, partitions 2\)/,
    );
    expect(() => resolveRange('t', offsets, { from: parseBound('0:101', '--from', NOW) })).toThrow(
      /t\[0\]: --from offset 101 is past the end of the partition \(it holds offsets 0..99\)/,
    );
    expect(() => resolveRange('t', offsets, { partitions: [7] })).toThrow(/t has no partition 7 \(it has 0, 1, 2\)/);
    expect(() =>
      resolveRange(
        't',
        offsets,
        { to: parseBound('2000-01-01T00:00:00Z', '--to', NOW) },
        {
          to: new Map([
            [0, 0n],
            [1, 10n],
            [2, 0n],
          ]),
        },
      ),
    ).toThrow(/REPLAY_EMPTY_RANGE|nothing to replay/);
  });
});
