/**
 * The CLI's progress while a candidate builds (BuildCandidateOptions.onProgress): a bar for the
 * features, then one per head over its epochs with the loss. On a terminal, cli-progress bars on
 * stderr; otherwise one line per finished phase (logs stay readable).
 */
import { Presets, SingleBar } from 'cli-progress';
import type { LearnProgress } from '../../model/learn/types';
import { headLine } from './report';

export interface ProgressView {
  onProgress(event: LearnProgress): void;
  stop(): void;
}

export function progressView(stream: NodeJS.WriteStream = process.stderr): ProgressView {
  let bar: SingleBar | null = null;
  let phase = '';
  const start = (name: string, total: number, format: string): SingleBar => {
    if (phase === name && bar) return bar;
    bar?.stop();
    phase = name;
    bar = new SingleBar({ format, stream, hideCursor: false, clearOnComplete: false }, Presets.shades_classic);
    bar.start(total, 0, { loss: '-', heldout: '-' });
    return bar;
  };
  const line = (text: string) => stream.write(`${text}\n`);
  const tty = stream.isTTY === true;
  return {
    onProgress(event) {
      if (event.kind === 'features') {
        if (tty) start('features', event.total, 'features [{bar}] {value}/{total} texts | {eta_formatted} left').update(event.done);
        else if (event.done === event.total) line(`features: ${event.total} texts (${event.cached} from the cache)`);
      } else if (event.kind === 'epoch') {
        const loss = event.loss.toFixed(4);
        const heldout = event.heldoutLoss === null ? '-' : event.heldoutLoss.toFixed(4);
        if (tty)
          start(
            `head ${event.head}`,
            event.epochs,
            `head ${event.head} [{bar}] epoch {value}/{total} | loss {loss} | held-back loss {heldout}`,
          ).update(event.epoch, { loss, heldout });
      } else if (event.kind === 'head-done') {
        bar?.stop();
        bar = null;
        phase = '';
        line(headLine(event.outcome));
      } else if (!tty) line(`evaluating: ${event.what}`);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
