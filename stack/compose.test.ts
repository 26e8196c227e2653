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
    const compose = parse(readFileSync(composeFile, 'utf8')) as {
      services: Record<string, { image?: string; command?: string[]; healthcheck?: { test: unknown } }>;
    };
    expect(compose.services.kafka!.image).toMatch(/^apache\/kafka:/);
    expect(compose.services.registry!.image).toMatch(/^apicurio\/apicurio-registry/);
    expect(Object.keys(compose.services).sort()).toEqual(['gateway', 'grafana', 'kafka', 'processor', 'prometheus', 'registry', 'topics']);
    for (const [name, service] of Object.entries(compose.services)) {
      if (name !== 'topics') expect({ name, healthcheck: service.healthcheck?.test !== undefined }).toEqual({ name, healthcheck: true });
    }
  });

  it("keeps the registry's schemas across restarts: KafkaSQL storage on the broker, whose log dir is a named volume", () => {
    type Service = { image?: string; environment?: Record<string, string>; volumes?: string[]; depends_on?: Record<string, unknown> };
    const compose = parse(readFileSync(composeFile, 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
    const { kafka, registry } = compose.services as { kafka: Service; registry: Service };
    // Storage kind: the image variant names it (-mem loses everything on restart).
    expect(registry.image).toMatch(/^apicurio\/apicurio-registry-kafkasql:2\.6\./);
    expect(registry.volumes).toBeUndefined();
    expect(registry.depends_on).toHaveProperty('kafka');
    // The registry reaches the broker on its inter-broker listener, the one advertised as kafka:<port>.
    const internal = /PLAINTEXT:\/\/(kafka:\d+)/.exec(kafka.environment!.KAFKA_ADVERTISED_LISTENERS!)?.[1];
    expect(registry.environment!.KAFKA_BOOTSTRAP_SERVERS).toBe(internal);
    // The journal topic lives where the broker writes its logs; that folder must be a named volume.
    const logDir = kafka.environment!.KAFKA_LOG_DIRS;
    expect(logDir).toBeDefined();
    const mount = kafka.volumes!.map((v) => v.split(':')).find(([, target]) => target === logDir);
    expect(mount).toBeDefined();
    expect(Object.keys(compose.volumes)).toContain(mount![0]);
  });
});
