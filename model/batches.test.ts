import { makeBatches } from './batches';

const job = (len: number, tag = 0) => ({
  row: { ids: new Int32Array(len), typeIds: new Int32Array(len), tokenIndex: new Int32Array(len) },
  tag,
});

describe('makeBatches', () => {
  it('sorted: by length (stable), at most batchSize rows, fewer when the token budget is tight', () => {
    const jobs = [job(10, 1), job(3, 2), job(10, 3), job(5, 4), job(3, 5)];
    expect(makeBatches(jobs, 2, 1000, 'sorted').map((b) => b.map((j) => j.tag))).toEqual([[2, 5], [4, 1], [3]]);
    // budget 20 tokens: the batch starting at 5 would reach 10 → 2 rows; then 10 → 2 rows
    expect(makeBatches(jobs, 4, 20, 'sorted').map((b) => b.map((j) => j.tag))).toEqual([[2, 5], [4, 1], [3]]);
  });
  it('arrival: input order, cut at either limit', () => {
    const jobs = [job(10, 1), job(3, 2), job(10, 3)];
    expect(makeBatches(jobs, 2, 1000, 'arrival').map((b) => b.map((j) => j.tag))).toEqual([[1, 2], [3]]);
    expect(makeBatches(jobs, 8, 20, 'arrival').map((b) => b.map((j) => j.tag))).toEqual([[1, 2], [3]]);
  });
  it('never mixes groups', () => {
    const jobs = [job(3, 1), job(3, 2), job(4, 1)];
    expect(makeBatches(jobs, 8, 1000, 'sorted', (j) => j.tag).map((b) => b.map((j) => j.tag))).toEqual([[1, 1], [2]]);
  });
  it('gives a row longer than the budget a batch of its own', () => {
    expect(makeBatches([job(50), job(50)], 8, 20, 'sorted').map((b) => b.length)).toEqual([1, 1]);
  });
});
