import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const composeFile = join(__dirname, '..', 'docker-compose.yml');

describe('docker-compose.yml', () => {
  it('is valid for docker-compose (`config -q`; no Docker engine needed)', () => {
    const result = spawnSync('docker-compose', ['-f', composeFile, 'config', '-q'], { encoding: 'utf8' });
    if (result.error) throw new Error('docker-compose is not installed: run scripts/install-tools.sh (npm test does)');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('runs Kafka and the registry from official images, each with a health check', () => {
    const compose = parse(readFileSync(composeFile, 'utf8')) as { services: Record<string, { image: string; healthcheck?: { test: unknown } }> };
    expect(compose.services.kafka!.image).toMatch(/^apache\/kafka:/);
    expect(compose.services.registry!.image).toMatch(/^apicurio\/apicurio-registry/);
    for (const service of Object.values(compose.services)) expect(service.healthcheck?.test).toBeDefined();
  });
});
