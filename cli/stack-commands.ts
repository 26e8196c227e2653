/** `trident stack up|down|status|logs`. */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { isSecureStack, secureClientEnv } from '../stack/secure';
import { stackDown, stackStatus, stackUp, stackPaths, tail } from '../stack/stack';
import type { CliContext } from '../common/cli-context';
import { join } from 'node:path';

export function registerStackCommands(program: Command, context: CliContext): void {
  const stack = program.command('stack').description('the local Kafka broker and schema registry (no Docker needed)');

  stack
    .command('up')
    .description('fetch (first time), start and wait for Kafka and the schema registry; harmless when already up')
    .option(
      '--secure',
      'Kafka with a SASL_SSL listener only: SCRAM-SHA-512 users and TLS from a CA made on first use (the data dir stays secure)',
    )
    .action(async (options: { secure?: boolean }) => {
      const config = context.config();
      const started = Date.now();
      const services = await stackUp(config, (line) => console.error(line), { secure: options.secure });
      for (const s of services) console.log(`${s.name.padEnd(8)} ${s.address}  (pid ${s.pid}, log ${s.log})`);
      const paths = stackPaths(config);
      if (isSecureStack(paths)) {
        // File names only: the passwords stay in their files.
        const env = Object.entries(secureClientEnv(paths))
          .map(([k, v]) => `${k}=${v}`)
          .join(' ');
        console.error(`Kafka takes SASL_SSL only (SCRAM-SHA-512, TLS with the stack's own CA). Client settings:\n  export ${env}`);
      }
      console.error(`stack is up (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    });

  stack
    .command('down')
    .description('stop Kafka and the schema registry')
    .option('--wipe', 'also delete all their data (topics, schemas)')
    .action(async (options: { wipe?: boolean }) => {
      await stackDown(context.config(), { wipe: options.wipe }, (line) => console.error(line));
      console.error('stack is down');
    });

  stack
    .command('status')
    .description('show whether each service runs and answers')
    .action(async () => {
      const services = await stackStatus(context.config());
      for (const s of services) {
        console.log(
          `${s.name.padEnd(8)} ${s.answering ? 'up' : s.running ? 'starting or unhealthy' : 'down'}  ${s.address}${s.pid ? `  (pid ${s.pid})` : ''}`,
        );
      }
      if (!services.every((s) => s.answering)) process.exitCode = 3;
    });

  stack
    .command('logs')
    .description('print the services’ logs')
    .option('-n, --lines <n>', 'lines per service', '40')
    .option('-f, --follow', 'keep printing new lines')
    .argument('[service]', 'kafka or registry (default: both)')
    .action(async (service: string | undefined, options: { lines: string; follow?: boolean }) => {
      const paths = stackPaths(context.config());
      const names = service ? [service] : ['kafka', 'registry'];
      const files = names.map((n) => join(paths.logs, `${n}.log`));
      if (options.follow) {
        await new Promise<void>((resolve) =>
          spawn('tail', ['-n', options.lines, '-F', ...files], { stdio: 'inherit' }).on('exit', () => resolve()),
        );
        return;
      }
      for (const [i, file] of files.entries()) console.log(`==> ${names[i]} (${file}) <==\n${tail(file, Number(options.lines))}`);
    });
}
