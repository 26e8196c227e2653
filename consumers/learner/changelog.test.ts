import { DatasetState } from './dataset';
import { applyChangelogRecord, exampleRecord, offsetRecord, statsRecord, trainedRecord } from './changelog';
import { exampleKey } from './validate-feedback';

describe('changelog records', () => {
  it('rebuild the same state, the newest record per key winning', () => {
    const live = new DatasetState();
    const records = [];
    for (const [i, label] of ['a', 'b', 'a', 'c'].entries()) {
      const text = `text ${i % 3}`;
      const change = live.accept(
        { key: exampleKey('categories', 'h', text), id: String(i), text, task: 'categories', head: 'h', label, source: 's', createdAt: 1 },
        { topic: 'fb', partition: 0, offset: String(i) },
      );
      live.advance(0, String(i + 1));
      records.push(exampleRecord(change.example), offsetRecord(0, String(i + 1)), statsRecord(live.changes, live.superseded));
    }
    live.lastTrained = { snapshotId: 'x', digest: 'd', changes: 2, version: '1.0.0-ft.1', at: 5 };
    records.push(trainedRecord(live.lastTrained));
    const restored = new DatasetState();
    for (const r of records) applyChangelogRecord(restored, String(r.key), r.value as Buffer, 'test');
    expect(restored.snapshot('fb')).toEqual(live.snapshot('fb'));
    expect(restored.superseded).toEqual(live.superseded);
    expect(restored.changes).toBe(live.changes);
    expect(restored.newSinceTraining).toBe(live.changes - 2);
  });

  it('refuses a record that is not JSON', () => {
    expect(() => applyChangelogRecord(new DatasetState(), 'stats', Buffer.from('{'), 'cl[0]@3')).toThrow(
      expect.objectContaining({ code: 'LEARN_CHANGELOG_INVALID' }),
    );
  });
});
