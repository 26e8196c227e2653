/**
 * Seek, pause and resume of the consumer's partitions, safe at any time. kafkajs throws from these
 * while it recreates its consumer group (the restart window after a broker restart or a crash); the
 * callers run in background promises, where a throw would be an unhandled rejection that kills the
 * process. A call that cannot be made is logged and dropped: the restarted group re-reads the
 * committed offsets, fetches every partition again (nothing is paused in a new group), and the
 * processor re-applies pauses for batches still in flight.
 */
import type { Consumer } from 'kafkajs';
import type { Logger } from 'pino';

export class PartitionControl {
  constructor(
    private readonly consumer: () => Consumer | null,
    private readonly log: Logger,
  ) {}

  seek(topic: string, partition: number, offset: string): boolean {
    return this.attempt('seek', topic, [partition], (c) => c.seek({ topic, partition, offset }), offset);
  }

  pause(topic: string, partitions: number[]): boolean {
    return this.attempt('pause', topic, partitions, (c) => c.pause([{ topic, partitions }]));
  }

  resume(topic: string, partitions: number[]): boolean {
    return this.attempt('resume', topic, partitions, (c) => c.resume([{ topic, partitions }]));
  }

  private attempt(action: string, topic: string, partitions: number[], call: (consumer: Consumer) => void, offset?: string): boolean {
    const consumer = this.consumer();
    if (!consumer) return false;
    try {
      call(consumer);
      return true;
    } catch (error) {
      this.log.warn(
        { err: error, topic, partitions, offset },
        `cannot ${action} now (consumer restarting); the restarted group re-reads the committed offsets`,
      );
      return false;
    }
  }
}
