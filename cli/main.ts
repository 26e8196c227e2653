/**
 * The `trident` command line. Each stage registers its own commands; this file wires them and turns
 * typed errors into one clear line and a non-zero exit code.
 */
import { Command, Option } from 'commander';
import { loadConfig } from '../common/config';
import type { CliContext } from '../common/cli-context';
import { ConfigError, TridentError } from '../common/errors';
import { registerStackCommands } from './stack-commands';
import { registerKafkaCommands } from './kafka-commands';
import { registerDemoCommand } from './demo';
import { registerPredictCommand } from '../model/cli';
import { registerEvalCommand } from '../model/evaluation/cli';
import { registerReplayCommand } from '../consumers/replay/cli';
import { registerConsumerCommands } from '../consumers/cli';
import { registerGatewayCommands } from '../gateway/cli';
import { registerModelsCommands } from '../model/registry/cli';
import { registerLearnCommand } from '../consumers/learner/cli';

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
  registerPredictCommand(program, context);
  registerEvalCommand(program, context);
  registerReplayCommand(program, context);
  registerConsumerCommands(program, context);
  registerGatewayCommands(program, context);
  registerModelsCommands(program, context);
  registerLearnCommand(program, context);
  return program;
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
