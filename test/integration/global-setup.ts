/**
 * One real broker and registry for the whole integration run. Uses the ones named by
 * KAFKA_BROKERS and SCHEMA_REGISTRY_URL when both are set; otherwise starts the project's own stack
 * (the same code as `trident stack up`), and stops it afterwards if this run started it. On machines
 * with Docker, TRIDENT_TEST_CONTAINERS=1 starts the docker-compose.yml's kafka and registry services
 * with testcontainers instead (not exercised where this project is developed: no Docker engine there).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../common/config';
import { stackStatus, stackUp, kafkaAddress, registryAddress } from '../../stack/stack';
import { stateFile } from './harness';

export default async function globalSetup(): Promise<void> {
  mkdirSync(join(stateFile, '..'), { recursive: true });
  if (process.env.KAFKA_BROKERS && process.env.SCHEMA_REGISTRY_URL) {
    writeFileSync(stateFile, JSON.stringify({ startedByTests: false, external: true }));
    return;
  }
  if (process.env.TRIDENT_TEST_CONTAINERS === '1') {
    const { DockerComposeEnvironment } = await import('testcontainers');
    const environment = await new DockerComposeEnvironment(join(__dirname, '..', '..'), 'docker-compose.yml').up(['kafka', 'registry']);
    (globalThis as { tridentCompose?: unknown }).tridentCompose = environment;
    process.env.KAFKA_BROKERS = '127.0.0.1:9092';
    process.env.SCHEMA_REGISTRY_URL = 'http://127.0.0.1:8085/apis/ccompat/v7';
    writeFileSync(stateFile, JSON.stringify({ startedByTests: false, external: true }));
    return;
  }
  const config = loadConfig({ env: stackEnv() });
  const before = await stackStatus(config);
  const alreadyUp = before.every((s) => s.answering);
  const started = Date.now();
  await stackUp(config, (line) => process.stderr.write(`[stack] ${line}\n`));
  process.stderr.write(
    `[stack] ${alreadyUp ? 'reusing the running stack' : `started in ${((Date.now() - started) / 1000).toFixed(1)} s`}\n`,
  );
  process.env.KAFKA_BROKERS = kafkaAddress(config);
  process.env.SCHEMA_REGISTRY_URL = registryAddress(config);
  writeFileSync(stateFile, JSON.stringify({ startedByTests: !alreadyUp, external: false }));
}

/** Only the stack.* settings matter here; brokers named for clients must not leak into them. */
export function stackEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('TRIDENT_STACK_') || k === 'TRIDENT_CONFIG'));
}
