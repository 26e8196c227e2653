/**
 * A bounded FIFO of outgoing frames for one client: at most `maxItems` frames and `maxBytes` bytes.
 * A push that does not fit is refused and counted as missed; the caller decides what to do (send a
 * `lagged` notice later, or disconnect). Pure; O(1) push and shift.
 */
export interface QueueLimits {
  maxItems: number;
  maxBytes: number;
  /** Bytes control frames may use beyond `maxBytes` (replies still reach a client whose queue is full of results). */
  controlHeadroomBytes?: number;
}

export class BoundedQueue {
  private items: string[] = [];
  private head = 0;
  private bytes = 0;
  /** Frames refused since the last `takeMissed()`. */
  private missedCount = 0;

  constructor(private readonly limits: QueueLimits) {
    if (!(limits.maxItems >= 1) || !(limits.maxBytes >= 1)) throw new RangeError('queue limits must be >= 1');
  }

  get length(): number {
    return this.items.length - this.head;
  }

  get byteLength(): number {
    return this.bytes;
  }

  get missed(): number {
    return this.missedCount;
  }

  /** Adds a frame; false (and one more missed) when it would exceed either limit. */
  push(frame: string, size = Buffer.byteLength(frame, 'utf8')): boolean {
    if (this.length >= this.limits.maxItems || (this.length > 0 && this.bytes + size > this.limits.maxBytes)) {
      this.missedCount += 1;
      return false;
    }
    this.items.push(frame);
    this.sizes.push(size);
    this.bytes += size;
    return true;
  }

  /**
   * Adds a control frame (a reply, `lagged`) even when the queue is full of results, up to
   * `controlHeadroomBytes` beyond `maxBytes`; false beyond that (the caller closes the socket: a
   * client that sends requests and never reads the replies must not grow the queue).
   */
  pushControl(frame: string): boolean {
    const size = Buffer.byteLength(frame, 'utf8');
    if (this.length > 0 && this.bytes + size > this.limits.maxBytes + (this.limits.controlHeadroomBytes ?? 0)) return false;
    this.items.push(frame);
    this.sizes.push(size);
    this.bytes += size;
    return true;
  }

  shift(): string | undefined {
    if (this.length === 0) return undefined;
    const frame = this.items[this.head]!;
    this.bytes -= this.sizes[this.head]!;
    this.items[this.head] = '';
    this.head += 1;
    // Compact now and then so the arrays do not grow without bound.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
    return frame;
  }

  /** Returns the missed count and resets it. */
  takeMissed(): number {
    const n = this.missedCount;
    this.missedCount = 0;
    return n;
  }

  /** Whether there is room for at least a fraction of the queue again (hysteresis for `lagged`). */
  hasRoom(fraction = 0.5): boolean {
    return this.length <= this.limits.maxItems * (1 - fraction) && this.bytes <= this.limits.maxBytes * (1 - fraction);
  }

  clear(): void {
    this.items = [];
    this.sizes = [];
    this.head = 0;
    this.bytes = 0;
  }

  private sizes: number[] = [];
}
