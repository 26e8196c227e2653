/**
 * kafkajs 2.2.4 lets read_committed readers see records of aborted transactions: its
 * `filterAbortedMessages` marks at most one aborted transaction per record and expects the broker's
 * list sorted by first offset (the broker lists them in the order they ended), so a fetch that starts
 * inside transactions which began before it lets their records through. `patches/kafkajs+2.2.4.patch`
 * fixes it after install (scripts/setup.js runs patch-package, see `patches/README.md`). An install that
 * skipped scripts (`npm install --ignore-scripts`) would bring the bug back without a sound, so every
 * Kafka client of the project checks the filter before it is built.
 */
import { TridentError } from './errors';

export interface FilterMessage {
  offset: string;
  key: Buffer | null;
  isControlRecord?: boolean;
  batchContext: { producerId: string; inTransaction: boolean; isControlBatch?: boolean };
}

export interface AbortedTransaction {
  producerId: string;
  firstOffset: string;
}

export type AbortedMessagesFilter = (input: { messages: FilterMessage[]; abortedTransactions?: AbortedTransaction[] }) => FilterMessage[];

export const KAFKAJS_PATCH = 'patches/kafkajs+2.2.4.patch';

/** kafkajs's own filter (an internal module: the one every kafkajs consumer runs on each fetch). */
export function loadAbortedMessagesFilter(): AbortedMessagesFilter {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- an internal module, no typed export
  return require('kafkajs/src/consumer/filterAbortedMessages') as AbortedMessagesFilter;
}

/** A control record: `type` is the marker's control type (ABORT or COMMIT). */
export function controlRecord(offset: number | bigint, producerId: string, type: 'abort' | 'commit'): FilterMessage {
  const key = Buffer.from([0, 0, 0, type === 'abort' ? 0 : 1]);
  return { offset: String(offset), key, isControlRecord: true, batchContext: { producerId, inTransaction: true, isControlBatch: true } };
}

/** A data record of a producer, in a transaction unless told otherwise. */
export function dataRecord(offset: number | bigint, producerId: string, inTransaction = true): FilterMessage {
  return {
    offset: String(offset),
    key: Buffer.from(`k${offset}`),
    isControlRecord: false,
    batchContext: { producerId, inTransaction, isControlBatch: false },
  };
}

/**
 * A fetch that starts inside two aborted transactions of two producers (listed as the broker lists
 * them, by end) next to a committed one: only the committed record and the markers may pass.
 */
function probe(filter: AbortedMessagesFilter): { passed: string[]; expected: string[] } {
  const messages = [
    dataRecord(20, '1'),
    dataRecord(21, '2'),
    dataRecord(22, '3'),
    dataRecord(23, '2'),
    controlRecord(24, '2', 'abort'),
    dataRecord(25, '1'),
    controlRecord(26, '1', 'abort'),
    controlRecord(27, '3', 'commit'),
  ];
  const abortedTransactions = [
    { producerId: '2', firstOffset: '11' },
    { producerId: '1', firstOffset: '10' },
  ];
  return { passed: filter({ messages, abortedTransactions }).map((m) => m.offset), expected: ['22', '24', '26', '27'] };
}

export class KafkajsUnpatchedError extends TridentError {
  constructor(passed: string[], expected: string[]) {
    super(
      'KAFKAJS_UNPATCHED',
      `kafkajs's read_committed filter lets records of aborted transactions through (a probe fetch passed offsets ${passed.join(',')}; expected ${expected.join(',')}): ` +
        `node_modules/kafkajs is not patched with ${KAFKAJS_PATCH}, probably because nothing ran scripts/setup.js since the install. Run \`npm run setup\` (or \`npx patch-package\`) in the project root.`,
    );
  }
}

let checked = false;

/**
 * Throws KafkajsUnpatchedError when kafkajs's aborted-transaction filter is the unpatched one.
 * Synchronous and cheap (eight records); the installed filter is checked once per process.
 */
export function assertReadCommittedFilter(filter?: AbortedMessagesFilter): void {
  if (!filter && checked) return;
  const { passed, expected } = probe(filter ?? loadAbortedMessagesFilter());
  if (passed.join() !== expected.join()) throw new KafkajsUnpatchedError(passed, expected);
  if (!filter) checked = true;
}
