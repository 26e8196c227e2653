/** `trident gateway` and `trident token create|list|revoke`: thin wiring over gateway/. */
import type { Command } from 'commander';
import type { CliContext } from '../common/cli-context';
import { Gateway } from './server';
import { DEFAULT_TENANT } from './tenants';
import { parseScopes, parseTenant, TokenStore } from './tokens';

export function registerGatewayCommands(program: Command, context: CliContext): void {
  program
    .command('gateway')
    .description('serve WebSocket result streams, the HTTP API, /docs and the live page (default http://127.0.0.1:8787/)')
    .option('--host <host>', 'interface to listen on (default: gateway.host)')
    .option('--port <port>', 'port (default: gateway.port; 0 picks a free one)')
    .action(async (options: { host?: string; port?: string }) => {
      const gatewayOverrides: Record<string, unknown> = {};
      if (options.host !== undefined) gatewayOverrides.host = options.host;
      if (options.port !== undefined) gatewayOverrides.port = Number(options.port);
      const config = context.config({ gateway: gatewayOverrides });
      const gateway = Gateway.fromConfig(config);
      const { url } = await gateway.start();
      console.error(
        `trident gateway: listening on ${url} (live page ${url}, API docs ${url}docs, WebSocket ${url.replace(/^http/, 'ws')}v1/ws)`,
      );
      console.error(`tokens: ${config.gateway.tokensFile} (create one with: trident token create --tenant NAME --scopes submit,subscribe)`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          gateway.stop().finally(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });

  const token = program.command('token').description('API tokens for the gateway (only their hashes are stored)');
  token
    .command('create')
    .description('create a token and print it once')
    .requiredOption(
      '--scopes <scopes>',
      'comma-separated: submit, subscribe, feedback (send corrections), admin (subscribe across tenants)',
    )
    .option('--tenant <name>', `the tenant it submits for and reads from (default: ${DEFAULT_TENANT})`, DEFAULT_TENANT)
    .option('--name <name>', 'a name to list and revoke it by')
    .action((options: { scopes: string; tenant: string; name?: string }) => {
      const config = context.config();
      const store = new TokenStore(config.gateway.tokensFile);
      const { token: plain, record } = store.create(parseScopes(options.scopes), options.name, parseTenant(options.tenant));
      console.log(plain);
      console.error(
        `created token ${record.name} (id ${record.id}, tenant ${record.tenant}, scopes ${record.scopes.join(',')}); it is shown only now — stored hashed in ${store.file}`,
      );
    });
  token
    .command('list')
    .description('list tokens (id, name, tenant, scopes, created, revoked)')
    .action(() => {
      const store = new TokenStore(context.config().gateway.tokensFile);
      for (const t of store.list())
        console.log(
          [t.id, t.name, t.tenant, t.scopes.join(','), t.createdAt, t.revokedAt ? `revoked ${t.revokedAt}` : 'active'].join('\t'),
        );
    });
  token
    .command('revoke')
    .description('revoke a token by id or name (open sockets using it are closed within a second)')
    .argument('<id-or-name>')
    .action((idOrName: string) => {
      const store = new TokenStore(context.config().gateway.tokensFile);
      const revoked = store.revoke(idOrName);
      if (revoked.length === 0) {
        console.error(`trident: no active token with id or name ${JSON.stringify(idOrName)}`);
        process.exitCode = 1;
        return;
      }
      for (const t of revoked) console.error(`revoked ${t.name} (id ${t.id})`);
    });
}
