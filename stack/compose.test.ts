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

  it('runs Kafka and the registry from official images, and every long-running service has a health check', () => {
    const compose = parse(readFileSync(composeFile, 'utf8')) as { services: Record<string, { image?: string; command?: string[]; healthcheck?: { test: unknown } }> };
    expect(compose.services.kafka!.image).toMatch(/^apache\/kafka:/);
    expect(compose.services.registry!.image).toMatch(/^apicurio\/apicurio-registry/);
    expect(Object.keys(compose.services).sort()).toEqual(['gateway', 'grafana', 'kafka', 'processor', 'prometheus', 'registry', 'topics']);
    for (const [name, service] of Object.entries(compose.services)) {
      if (name !== 'topics') expect({ name, healthcheck: service.healthcheck?.test !== undefined }).toEqual({ name, healthcheck: true });
    }
  });
});
