/**
 * A second, private stack on other ports (the shared one keeps serving the other tests): restart
 * keeps topics and schemas, `up` twice is harmless, a busy port gives one clear line.
 */
import { createServer, type Server } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestTopics, privateStack, runCli, testConfig } from './harness';

const PORTS = { kafka: 29092, controller: 29093, registry: 28085 };

describe('trident stack (a private stack on other ports)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'trident-stack-'));
  const { stackEnv, clientEnv } = privateStack(PORTS, dataDir);

  afterAll(async () => {
    await runCli(['stack', 'down', '--wipe'], stackEnv);
  });

  it('keeps messages and schemas across down/up; up twice is harmless', async () => {
    const up = await runCli(['stack', 'up'], stackEnv);
    expect(up.stderr).toMatch(/stack is up/);
    expect(up.code).toBe(0);
    const again = await runCli(['stack', 'up'], stackEnv);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`127.0.0.1:${PORTS.kafka}`);

    const { config, env } = testConfig('restart', {
      kafka: { brokers: [clientEnv.KAFKA_BROKERS] },
      registry: { url: clientEnv.SCHEMA_REGISTRY_URL },
    });
    const privateEnv = { ...env, ...clientEnv };
    await createTestTopics(config);
    const produced = await runCli(['produce', '--file', '-'], privateEnv, '{"id":"before-restart","text":"kept across restarts"}\n');
    expect(produced.code).toBe(0);

    expect((await runCli(['stack', 'down'], stackEnv)).code).toBe(0);
    const status = await runCli(['stack', 'status'], stackEnv);
    expect(status.stdout).toMatch(/kafka\s+down/);
    expect((await runCli(['stack', 'up'], stackEnv)).code).toBe(0);

    const tailed = await runCli(['tail', 'text', '--from-beginning', '--timeout', '60'], privateEnv);
    expect(tailed.code).toBe(0);
    expect(JSON.parse(tailed.stdout.trim())).toMatchObject({ id: 'before-restart', text: 'kept across restarts' });
  });

  it('fails with one clear line when a port is taken by another process', async () => {
    const busyEnv = {
      ...stackEnv,
      TRIDENT_STACK_DATA_DIR: mkdtempSync(join(tmpdir(), 'trident-busy-')),
      TRIDENT_STACK_KAFKA_PORT: '29192',
      TRIDENT_STACK_CONTROLLER_PORT: '29193',
      TRIDENT_STACK_REGISTRY_PORT: '28185',
    };
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(29192, '127.0.0.1', r));
    try {
      const result = await runCli(['stack', 'up'], busyEnv);
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim().split('\n').pop()).toMatch(
        /^trident: port 29192 \(kafka\) is already in use by another process; stop it or set TRIDENT_STACK_KAFKA_PORT$/,
      );
    } finally {
      server.close();
    }
  });
});
