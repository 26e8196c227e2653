import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configEnvNames, loadConfig, modelConfigFromEnv } from './config';
import { ConfigError } from './errors';
import { kafkaSecurity } from './kafka';

describe('loadConfig', () => {
  it('gives defaults when nothing is set', () => {
    const config = loadConfig({ env: {} });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.topics.text).toBe('trident.text');
    expect(config.producer.maxTextBytes).toBe(1_000_000);
  });

  it('reads TRIDENT_* variables by dotted path, typed', () => {
    const config = loadConfig({
      env: { TRIDENT_KAFKA_BROKERS: 'a:1, b:2', TRIDENT_TOPICS_PARTITIONS: '3', TRIDENT_PRODUCER_MAX_TEXT_BYTES: '10' },
    });
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(config.topics.partitions).toBe(3);
    expect(config.producer.maxTextBytes).toBe(10);
  });

  it('honours KAFKA_BROKERS and SCHEMA_REGISTRY_URL over TRIDENT_* ones', () => {
    const config = loadConfig({ env: { TRIDENT_KAFKA_BROKERS: 'a:1', KAFKA_BROKERS: 'b:2', SCHEMA_REGISTRY_URL: 'http://r:1/x' } });
    expect(config.kafka.brokers).toEqual(['b:2']);
    expect(config.registry.url).toBe('http://r:1/x');
  });

  it('fails on a bad value with the key, the variable and what was expected', () => {
    expect(() => loadConfig({ env: { TRIDENT_TOPICS_PARTITIONS: 'many' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { TRIDENT_TOPICS_PARTITIONS: 'many' } })).toThrow(
      /config topics\.partitions: .*number.*\(from TRIDENT_TOPICS_PARTITIONS\)/i,
    );
    expect(() => loadConfig({ env: { TRIDENT_KAFKA_BROKERS: 'nohostport' } })).toThrow(/kafka\.brokers\.0: expected host:port/);
  });

  it('processor.delivery defaults to exactly-once and processor.batchWait to adaptive; other values are refused', () => {
    expect(loadConfig({ env: {} }).processor).toMatchObject({ delivery: 'exactly-once', batchWait: 'adaptive' });
    const set = loadConfig({ env: { TRIDENT_PROCESSOR_DELIVERY: 'at-least-once', TRIDENT_PROCESSOR_BATCH_WAIT: 'fixed' } });
    expect(set.processor).toMatchObject({ delivery: 'at-least-once', batchWait: 'fixed' });
    expect(() => loadConfig({ env: { TRIDENT_PROCESSOR_DELIVERY: 'at-most-once' } })).toThrow(/processor\.delivery/);
    expect(() => loadConfig({ env: { TRIDENT_PROCESSOR_BATCH_WAIT: 'sometimes' } })).toThrow(/processor\.batchWait/);
  });

  it('reads a JSON file and names an unknown key in it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trident-config-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ topics: { text: 'my.text' } }));
    expect(loadConfig({ file: good, env: {} }).topics.text).toBe('my.text');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ topics: { txt: 'x' } }));
    expect(() => loadConfig({ file: bad, env: {} })).toThrow(/config topics\.txt: unknown key \(from .*bad\.json\)/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ nope');
    expect(() => loadConfig({ file: broken, env: {} })).toThrow(/cannot read .*broken\.json as JSON/);
  });

  it('rejects an invalid topic name', () => {
    expect(() => loadConfig({ env: { TRIDENT_TOPICS_DLQ: 'bad topic!' } })).toThrow(/topics\.dlq: expected a Kafka topic name/);
  });

  it("reads the model's older variable names, below the file and TRIDENT_MODEL_*", () => {
    const env = { TRIDENT_MODEL_DIR: '/models/a', TRIDENT_ORT_SPINNING: '1', TRIDENT_NO_SIMD: '1' };
    expect(loadConfig({ env }).model).toMatchObject({ path: '/models/a', ortSpinning: true, simd: false });
    expect(loadConfig({ env: {} }).model).toMatchObject({ ortSpinning: false, simd: true });
    expect(loadConfig({ env: { ...env, TRIDENT_MODEL_PATH: '/models/b', TRIDENT_MODEL_SIMD: 'true' } }).model).toMatchObject({
      path: '/models/b',
      simd: true,
    });
    const dir = mkdtempSync(join(tmpdir(), 'trident-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ model: { path: '/models/file' } }));
    expect(loadConfig({ file, env }).model.path).toBe('/models/file');
  });

  it('reads SASL/SCRAM and TLS settings from TRIDENT_KAFKA_SASL_* / TRIDENT_KAFKA_SSL_* and checks they fit together', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trident-kafka-sec-'));
    writeFileSync(join(dir, 'pw'), 's3cret-from-file\n');
    writeFileSync(join(dir, 'ca.pem'), 'CA PEM');
    const config = loadConfig({
      env: {
        TRIDENT_KAFKA_SASL_MECHANISM: 'scram-sha-512',
        TRIDENT_KAFKA_SASL_USERNAME: 'trident',
        TRIDENT_KAFKA_SASL_PASSWORD_FILE: join(dir, 'pw'),
        TRIDENT_KAFKA_SSL_ENABLED: 'true',
        TRIDENT_KAFKA_SSL_CA_FILE: join(dir, 'ca.pem'),
      },
    });
    expect(config.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'trident', passwordFile: join(dir, 'pw') });
    expect(kafkaSecurity(config.kafka)).toEqual({
      ssl: { rejectUnauthorized: true, ca: ['CA PEM'] },
      sasl: { mechanism: 'scram-sha-512', username: 'trident', password: 's3cret-from-file' },
    });
    expect(loadConfig({ env: {} }).kafka.sasl.mechanism).toBe('none');
    expect(kafkaSecurity(loadConfig({ env: {} }).kafka)).toEqual({});
    expect(() => loadConfig({ env: { TRIDENT_KAFKA_SASL_MECHANISM: 'scram-sha-512', TRIDENT_KAFKA_SASL_PASSWORD: 'x' } })).toThrow(
      /config kafka\.sasl\.username: required with mechanism scram-sha-512/,
    );
    const both = () =>
      loadConfig({
        env: {
          TRIDENT_KAFKA_SASL_MECHANISM: 'scram-sha-512',
          TRIDENT_KAFKA_SASL_USERNAME: 'u',
          TRIDENT_KAFKA_SASL_PASSWORD: 'hunter2',
          TRIDENT_KAFKA_SASL_PASSWORD_FILE: 'f',
        },
      });
    expect(both).toThrow(/config kafka\.sasl\.password: give exactly one of/);
    try {
      both();
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
    const missingFile = loadConfig({
      env: {
        TRIDENT_KAFKA_SASL_MECHANISM: 'scram-sha-512',
        TRIDENT_KAFKA_SASL_USERNAME: 'u',
        TRIDENT_KAFKA_SASL_PASSWORD_FILE: join(dir, 'nope'),
      },
    });
    expect(() => kafkaSecurity(missingFile.kafka)).toThrow(`config kafka.sasl.passwordFile: cannot read ${join(dir, 'nope')}: ENOENT`);
    expect(() => loadConfig({ env: { TRIDENT_KAFKA_SSL_CERT_FILE: 'c.pem' } })).toThrow(
      /config kafka\.ssl\.keyFile: a client certificate needs both/,
    );
  });

  it('takes processor.dedupWindow as a duration and names the key when it is not one', () => {
    expect(loadConfig({ env: {} }).processor.dedupWindow).toBe('24h');
    expect(loadConfig({ env: { TRIDENT_PROCESSOR_DEDUP_WINDOW: '30m' } }).processor.dedupWindow).toBe('30m');
    expect(() => loadConfig({ env: { TRIDENT_PROCESSOR_DEDUP_WINDOW: 'a day' } })).toThrow(
      /processor\.dedupWindow: expected a duration like 24h, 30m, 90s or 0s \(from TRIDENT_PROCESSOR_DEDUP_WINDOW\)/,
    );
    expect(loadConfig({ env: {} }).producer.deliveryTimeoutMs).toBe(120_000);
  });
});

describe('modelConfigFromEnv', () => {
  it('reads the model section from the environment alone', () => {
    expect(modelConfigFromEnv({ TRIDENT_MODEL_DIR: '/m', TRIDENT_NO_SIMD: '1' })).toMatchObject({
      path: '/m',
      simd: false,
      ortSpinning: false,
    });
    // Unset: the artifact's default (mixed for batch-independent quantisation, see model/pipeline.ts).
    expect(modelConfigFromEnv({}).batching).toBeUndefined();
    expect(modelConfigFromEnv({ TRIDENT_MODEL_BATCHING: 'mixed' }).batching).toBe('mixed');
    expect(modelConfigFromEnv({ TRIDENT_MODEL_ORT_SPINNING: 'true' }).ortSpinning).toBe(true);
  });

  it('names the key of a bad value', () => {
    expect(() => modelConfigFromEnv({ TRIDENT_MODEL_THREADS: 'many' })).toThrow(/model\.threads: .*\(from TRIDENT_MODEL_THREADS\)/);
    expect(() => modelConfigFromEnv({ TRIDENT_MODEL_BATCHING: 'fast' })).toThrow(/model\.batching: .*\(from TRIDENT_MODEL_BATCHING\)/);
  });
});

describe('configEnvNames', () => {
  it('names the variable of every config key, each of which the loader reads', () => {
    const names = configEnvNames();
    expect(names).toEqual(
      expect.arrayContaining([
        'TRIDENT_KAFKA_BROKERS',
        'TRIDENT_PROCESSOR_MAX_BATCH_EVENTS',
        'TRIDENT_GATEWAY_TOKENS_FILE',
        'TRIDENT_MODEL_PATH',
      ]),
    );
    expect(new Set(names).size).toBe(names.length);
    // The loader reads them: a non-number under each numeric one stops it.
    for (const name of names.filter((n) => n.endsWith('_PORT') || n.endsWith('_MS'))) {
      expect(() => loadConfig({ env: { [name]: 'not-a-number' } })).toThrow(ConfigError);
    }
  });
});
