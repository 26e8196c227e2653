/**
 * The `trident` command line. Each stage registers its own commands; this file wires them and turns
 * typed errors into one clear line and a non-zero exit code.
 */
import { Command, Option } from 'commander';
import { loadConfig, type TridentConfig } from '../common/config';
import { ConfigError, TridentError } from '../common/errors';
import { registerStackCommands } from './stack-commands';
import { registerKafkaCommands } from './kafka-commands';
import { registerDemoCommand } from './demo';
import { registerModelsCommands } from '../model/registry/cli';

export interface CliContext {
  /** Loads the config once, with the global `--config` file. Throws ConfigError. */
  config(overrides?: Record<string, unknown>): TridentConfig;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('trident')
    .description('Real-time NLP over Kafka: sentiment, entities, answers and categories from one shared encoder.')
    .addOption(new Option('--config <file>', 'JSON config file (default: $TRIDENT_CONFIG or ./trident.config.json)'))
    .showHelpAfterError()
    .exitOverride();
  const context: CliContext = {
    config: (overrides) => loadConfig({ file: program.opts().config, overrides }),
  };
  registerStackCommands(program, context);
  registerKafkaCommands(program, context);
  registerDemoCommand(program, context);
  registerModelsCommands(program, context);
  registerOptional(program, context);
  return program;
}

/** Commands of stages that may not be built yet register themselves when present. */
function registerOptional(program: Command, context: CliContext): void {
  for (const [path, name] of [
    ['../model/cli', 'registerPredictCommand'],
    ['../consumers/cli', 'registerConsumerCommands'],
    ['../gateway/cli', 'registerGatewayCommands'],
  ] as const) {
    let mod: Record<string, unknown>;
    try {
      mod = require(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes(path.slice(3))) continue;
      throw error;
    }
    (mod[name] as (p: Command, c: CliContext) => void)(program, context);
  }
}

export async function main(argv: string[]): Promise<void> {
  // `trident tail … | head` closes stdout early; that is a normal way to stop, not a crash.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      process.exitCode = 2;
      return;
    }
    if (error instanceof ConfigError) {
      console.error(`trident: ${error.message}`);
      process.exitCode = 2;
      return;
    }
    if (error instanceof TridentError) {
      console.error(`trident: ${error.message}`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}
