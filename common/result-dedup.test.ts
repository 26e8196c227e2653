import { ResultDedup } from './result-dedup';

describe('ResultDedup', () => {
  it('keeps the first result per topic, tenant and id and counts the repeats', () => {
    const dedup = new ResultDedup();
    expect(dedup.first('sentiment', { id: 'a' })).toBe(true);
    expect(dedup.first('sentiment', { id: 'a' })).toBe(false);
    expect(dedup.first('entities', { id: 'a' })).toBe(true); // another task's result of the same event
    expect(dedup.first('sentiment', { id: 'a', tenant: 'acme' })).toBe(true); // another tenant's id
    expect(dedup.first('sentiment', { id: 'a', tenant: 'acme' })).toBe(false);
    expect(dedup.duplicates).toBe(2);
  });

  it('forgets the oldest ids beyond maxIds', () => {
    const dedup = new ResultDedup(2);
    dedup.first('t', { id: '1' });
    dedup.first('t', { id: '2' });
    dedup.first('t', { id: '3' });
    expect(dedup.first('t', { id: '1' })).toBe(true); // forgotten
    expect(dedup.first('t', { id: '3' })).toBe(false);
  });
});
