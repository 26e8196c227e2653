import { DatasetState, MIN_HELDOUT_PER_LABEL, textHashUnit } from './dataset';
import { exampleKey, type ValidExample } from './validate-feedback';

const at = (offset: number, partition = 0) => ({ topic: 'fb', partition, offset: String(offset) });
const intent = (head: string, label: string, text: string): ValidExample => ({
  key: exampleKey('categories', head, text),
  id: text,
  text,
  task: 'categories',
  head,
  label,
  source: 'test',
  createdAt: 1,
});

describe('DatasetState.accept', () => {
  it('adds a new key, leaves the same label alone, and supersedes a conflicting older label', () => {
    const state = new DatasetState();
    expect(state.accept(intent('support', 'refund', 'money back please'), at(0)).kind).toBe('added');
    expect(state.accept(intent('support', 'refund', 'money back please'), at(1)).kind).toBe('unchanged');
    expect(state.changes).toBe(1);
    const change = state.accept(intent('support', 'cancel', 'money back please'), at(2));
    expect(change).toMatchObject({ kind: 'replaced', superseded: { was: 'refund', now: 'cancel', wasAt: at(0), nowAt: at(2) } });
    expect(state.size).toBe(1);
    expect(state.all()[0]).toMatchObject({ label: 'cancel', position: at(2) });
    expect(state.superseded.count).toBe(1);
    expect(state.changes).toBe(2);
  });

  it('keeps only the last few superseded examples but counts them all', () => {
    const state = new DatasetState();
    for (let i = 0; i < 30; i++) state.accept(intent('h', i % 2 ? 'a' : 'b', 'same text'), at(i));
    expect(state.superseded.count).toBe(29);
    expect(state.superseded.recent).toHaveLength(10);
    expect(state.superseded.recent.at(-1)!.nowAt).toEqual(at(29));
  });
});

describe('split', () => {
  const texts = (label: string, n: number) => Array.from({ length: n }, (_, i) => `${label} example number ${i}`);

  it('holds back at least 5 per label once it has 10 examples, about 10 % beyond', () => {
    const state = new DatasetState();
    for (const label of ['a', 'b', 'c']) for (const text of texts(label, 200)) state.accept(intent('h', label, text), at(0));
    const { heads } = state.snapshot('fb');
    expect(heads.h!.train + heads.h!.heldout).toBe(600);
    for (const label of ['a', 'b', 'c']) {
      const held = state.all().filter((e) => e.label === label && e.split === 'heldout').length;
      expect(held).toBeGreaterThanOrEqual(MIN_HELDOUT_PER_LABEL);
      // 5 forced + ~10 % of 195 (binomial: 19.5 ± 4.2); wide bounds, the hash is fixed so this is deterministic.
      expect(held).toBeGreaterThan(12);
      expect(held).toBeLessThan(35);
    }
  });

  it('reaches the minimum at exactly 10 examples of a label', () => {
    const state = new DatasetState();
    for (const text of texts('x', 10)) state.accept(intent('h', 'x', text), at(0));
    expect(state.all().filter((e) => e.split === 'heldout')).toHaveLength(5);
  });

  it('never moves a text between splits as more data arrives or on a relabel', () => {
    const state = new DatasetState();
    const seen = new Map<string, string>();
    for (let round = 0; round < 5; round++) {
      for (const text of texts(`r${round}`, 40)) state.accept(intent('h', round % 2 ? 'odd' : 'even', text), at(round));
      for (const e of state.all()) {
        if (seen.has(e.key)) expect(e.split).toBe(seen.get(e.key));
        seen.set(e.key, e.split);
      }
    }
    const first = state.all()[0]!;
    const relabelled = state.accept(intent('h', 'other', first.text), at(99));
    expect(relabelled.example.split).toBe(first.split);
  });

  it('uses the text hash beyond the minimum', () => {
    const state = new DatasetState();
    for (const text of texts('z', 10)) state.accept(intent('h', 'z', text), at(0));
    const extra = texts('extra', 300);
    for (const text of extra) state.accept(intent('h', 'z', text), at(1));
    for (const text of extra) {
      const e = state.get(exampleKey('categories', 'h', text))!;
      expect(e.split).toBe(textHashUnit(text) < 0.1 ? 'heldout' : 'train');
    }
  });
});

describe('snapshot', () => {
  const build = (order: number[]) => {
    const state = new DatasetState();
    for (const i of order) state.accept(intent('h', i % 2 ? 'a' : 'b', `text ${i}`), at(i));
    state.advance(0, '6');
    state.advance(1, '3');
    return state;
  };

  it('is stable: the same examples and offsets give the same id', () => {
    const a = build([0, 1, 2, 3, 4, 5]).snapshot('fb');
    const b = build([0, 1, 2, 3, 4, 5]).snapshot('fb');
    expect(a).toEqual(b);
    expect(a.id).toMatch(/^[0-9a-f]{16}$/);
    expect(a.offsets).toEqual({ '0': '6', '1': '3' });
    expect(a.heads.h).toEqual({ task: 'categories', train: a.heads.h!.train, heldout: a.heads.h!.heldout, labels: { a: 3, b: 3 } });
  });

  it('changes with the offsets (same digest) and with the examples', () => {
    const state = build([0, 1, 2, 3, 4, 5]);
    const before = state.snapshot('fb');
    state.advance(1, '4'); // a dead letter or a repeat: no new example
    const moved = state.snapshot('fb');
    expect(moved.digest).toBe(before.digest);
    expect(moved.id).not.toBe(before.id);
    state.accept(intent('h', 'a', 'text 0'), at(7)); // relabel
    expect(state.snapshot('fb').digest).not.toBe(before.digest);
  });

  it('restored examples give the same snapshot as the live state', () => {
    const live = build([0, 1, 2, 3, 4, 5]);
    const restored = new DatasetState();
    for (const e of live.all()) restored.restoreExample(JSON.parse(JSON.stringify(e)));
    restored.advance(0, '6');
    restored.advance(1, '3');
    expect(restored.snapshot('fb')).toEqual(live.snapshot('fb'));
    // and the split quota continues from the restored counts
    live.accept(intent('h', 'a', 'new text'), at(8));
    restored.accept(intent('h', 'a', 'new text'), at(8));
    expect(restored.snapshot('fb').digest).toBe(live.snapshot('fb').digest);
  });
});
