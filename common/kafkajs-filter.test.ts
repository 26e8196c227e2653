import {
  assertReadCommittedFilter,
  controlRecord,
  dataRecord,
  KafkajsUnpatchedError,
  loadAbortedMessagesFilter,
  type AbortedMessagesFilter,
  type AbortedTransaction,
  type FilterMessage,
} from './kafkajs-filter';

// The installed kafkajs filter, as patched at install by patches/kafkajs+2.2.4.patch.
const filter = loadAbortedMessagesFilter();
const passed = (messages: FilterMessage[], abortedTransactions: AbortedTransaction[]) =>
  filter({ messages, abortedTransactions }).map((m) => Number(m.offset));

describe("kafkajs's aborted-transaction filter (patched)", () => {
  it('drops the records of every aborted transaction that began before the fetch, whatever order the broker lists them in', () => {
    // Producers 1, 2 and 4 began aborted transactions at 100, 101 and 103; producer 3 commits. The
    // fetch starts at 500, inside all of them; the broker lists them in the order they ended.
    const messages = [
      dataRecord(500, '2'),
      dataRecord(501, '4'),
      dataRecord(502, '3'),
      dataRecord(503, '1'),
      dataRecord(504, '2'),
      dataRecord(505, '3'),
      controlRecord(506, '4', 'abort'),
      dataRecord(507, '1'),
      controlRecord(508, '2', 'abort'),
      controlRecord(509, '1', 'abort'),
      controlRecord(510, '3', 'commit'),
    ];
    const aborted = [
      { producerId: '4', firstOffset: '103' },
      { producerId: '2', firstOffset: '101' },
      { producerId: '1', firstOffset: '100' },
    ];
    expect(passed(messages, aborted)).toEqual([502, 505, 506, 508, 509, 510]);
  });

  it('an abort marker ends only its own producer’s transaction; that producer’s next, committed transaction is not dropped', () => {
    // The fetch starts at producer 3's abort marker, inside producers 1 and 2's aborted transactions;
    // producer 3 then writes a committed transaction.
    const messages = [
      controlRecord(20, '3', 'abort'),
      dataRecord(21, '3'),
      dataRecord(22, '3'),
      dataRecord(23, '1'),
      dataRecord(24, '2'),
      controlRecord(25, '3', 'commit'),
      controlRecord(26, '1', 'abort'),
      dataRecord(27, '2'),
      controlRecord(28, '2', 'abort'),
    ];
    const aborted = [
      { producerId: '1', firstOffset: '10' },
      { producerId: '2', firstOffset: '11' },
      { producerId: '3', firstOffset: '12' },
    ];
    expect(passed(messages, aborted)).toEqual([20, 21, 22, 25, 26, 28]);
  });

  it('one producer’s aborted, committed and aborted transactions in one fetch: only the committed one passes', () => {
    const messages = [
      dataRecord(0, '7'),
      dataRecord(1, '7'),
      controlRecord(2, '7', 'abort'),
      dataRecord(3, '7'),
      dataRecord(4, '7'),
      controlRecord(5, '7', 'commit'),
      dataRecord(6, '7'),
      controlRecord(7, '7', 'abort'),
      dataRecord(8, '7'),
    ];
    const aborted = [
      { producerId: '7', firstOffset: '6' },
      { producerId: '7', firstOffset: '0' },
    ];
    expect(passed(messages, aborted)).toEqual([2, 3, 4, 5, 7, 8]);
  });

  it('compares producer ids and offsets in one representation (numbers, strings, 64-bit values)', () => {
    const big = '9007199254740993'; // above Number.MAX_SAFE_INTEGER
    const messages = [
      dataRecord(9007199254740990n, big),
      dataRecord(9007199254740991n, '5'),
      controlRecord(9007199254740992n, big, 'abort'),
    ];
    const aborted = [{ producerId: BigInt(big), firstOffset: 9007199254740989n }] as unknown as AbortedTransaction[];
    expect(filter({ messages, abortedTransactions: aborted }).map((m) => m.offset)).toEqual(['9007199254740991', '9007199254740992']);
    const numeric = [{ producerId: 5, firstOffset: 1 }] as unknown as AbortedTransaction[];
    expect(passed([dataRecord(3, '5'), controlRecord(4, '5', 'abort')], numeric)).toEqual([4]);
  });

  it('a data record whose key happens to be an abort marker’s bytes does not end the transaction', () => {
    const lookalike: FilterMessage = { ...dataRecord(2, '1'), key: Buffer.from([0, 0, 0, 0]) };
    const messages = [dataRecord(1, '1'), lookalike, dataRecord(3, '1'), controlRecord(4, '1', 'abort')];
    expect(passed(messages, [{ producerId: '1', firstOffset: '1' }])).toEqual([4]);
  });

  it('keeps records outside transactions and records before an aborted transaction begins', () => {
    const messages = [
      dataRecord(1, '1'),
      dataRecord(2, '-1', false),
      dataRecord(3, '1'),
      dataRecord(4, '-1', false),
      controlRecord(5, '1', 'abort'),
    ];
    expect(passed(messages, [{ producerId: '1', firstOffset: '3' }])).toEqual([1, 2, 4, 5]);
  });

  it('returns the messages unchanged without aborted transactions', () => {
    const messages = [dataRecord(1, '1'), controlRecord(2, '1', 'commit')];
    expect(filter({ messages, abortedTransactions: [] })).toBe(messages);
    expect(filter({ messages })).toBe(messages);
  });
});

describe('assertReadCommittedFilter', () => {
  it('accepts the installed (patched) filter', () => {
    expect(() => assertReadCommittedFilter()).not.toThrow();
    expect(() => assertReadCommittedFilter(filter)).not.toThrow();
  });

  it('refuses a filter that marks one aborted transaction per record, as kafkajs 2.2.4 does, naming the patch', () => {
    // kafkajs 2.2.4's logic, reduced: one `if` per record against the head of the unsorted list.
    const unpatched: AbortedMessagesFilter = ({ messages, abortedTransactions = [] }) => {
      const remaining = [...abortedTransactions];
      const open = new Set<string>();
      return messages.filter((m) => {
        if (remaining.length && BigInt(m.offset) >= BigInt(remaining[0]!.firstOffset)) open.add(remaining.shift()!.producerId);
        if (m.isControlRecord && m.key?.equals(Buffer.from([0, 0, 0, 0]))) open.delete(m.batchContext.producerId);
        else if (open.has(m.batchContext.producerId) && m.batchContext.inTransaction) return false;
        return true;
      });
    };
    expect(() => assertReadCommittedFilter(unpatched)).toThrow(KafkajsUnpatchedError);
    expect(() => assertReadCommittedFilter(unpatched)).toThrow(
      /passed offsets 20,22,24,26,27; expected 22,24,26,27.*patches\/kafkajs\+2\.2\.4\.patch.*npx patch-package/,
    );
    expect(() => assertReadCommittedFilter(unpatched)).toThrow(expect.objectContaining({ code: 'KAFKAJS_UNPATCHED', retriable: false }));
  });
});
