/** One pino root logger; each stage takes a child (`logger.child({ stage: 'produce' })`). */
import pino, { type Logger } from 'pino';

let root: Logger | undefined;

export function rootLogger(level: string = process.env.TRIDENT_LOG_LEVEL ?? 'info'): Logger {
  // Logs go to stderr so that stdout stays clean for data (`trident tail` prints JSON lines there).
  root ??= pino({ name: 'trident', level }, pino.destination(2));
  return root;
}

export function stageLogger(stage: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ stage, ...bindings });
}

export type { Logger };
