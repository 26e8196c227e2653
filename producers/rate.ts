/** Paces sends to at most `perSecond` events per second. Pure timing math with an injected clock. */
export class RatePacer {
  private readonly start: number;
  private sent = 0;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(perSecond > 0)) throw new RangeError(`rate must be > 0 events/s, got ${perSecond}`);
    this.start = now();
  }

  /** Milliseconds to wait before sending `count` more events so the average stays at the rate. */
  delayFor(count: number): number {
    this.sent += count;
    const due = this.start + (this.sent / this.perSecond) * 1000;
    return Math.max(0, due - this.now());
  }
}

/** Parses `--rate` values like `100`, `100/s`, `6000/m`. */
export function parseRate(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|m|min))?\s*$/i.exec(value);
  if (!match) throw new RangeError(`--rate: expected N/s or N/m, got ${JSON.stringify(value)}`);
  const n = Number(match[1]);
  const unit = (match[2] ?? 's').toLowerCase();
  const perSecond = unit.startsWith('m') ? n / 60 : n;
  if (perSecond <= 0) throw new RangeError(`--rate must be positive, got ${JSON.stringify(value)}`);
  return perSecond;
}
