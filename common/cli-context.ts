/**
 * What a stage's command registration receives from the `trident` program. Lives below the stages
 * so that `cli/main.ts` can import each stage's commands without the stages importing it back.
 */
import type { TridentConfig } from './config';

export interface CliContext {
  /** Loads the config once, with the global `--config` file. Throws ConfigError. */
  config(overrides?: Record<string, unknown>): TridentConfig;
}
