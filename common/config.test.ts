import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config';
import { ConfigError } from './errors';

describe('loadConfig', () => {
  it('gives defaults when nothing is set', () => {
    const config = loadConfig({ env: {} });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.topics.text).toBe('trident.text');
    expect(config.producer.maxTextBytes).toBe(1_000_000);
  });

  it('reads TRIDENT_* variables by dotted path, typed', () => {
    const config = loadConfig({ env: { TRIDENT_KAFKA_BROKERS: 'a:1, b:2', TRIDENT_TOPICS_PARTITIONS: '3', TRIDENT_PRODUCER_MAX_TEXT_BYTES: '10' } });
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
    expect(() => loadConfig({ env: { TRIDENT_TOPICS_PARTITIONS: 'many' } })).toThrow(/config topics\.partitions: .*number.*\(from TRIDENT_TOPICS_PARTITIONS\)/i);
    expect(() => loadConfig({ env: { TRIDENT_KAFKA_BROKERS: 'nohostport' } })).toThrow(/kafka\.brokers\.0: expected host:port/);
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

  it('takes processor.dedupWindow as a duration and names the key when it is not one', () => {
    expect(loadConfig({ env: {} }).processor.dedupWindow).toBe('24h');
    expect(loadConfig({ env: { TRIDENT_PROCESSOR_DEDUP_WINDOW: '30m' } }).processor.dedupWindow).toBe('30m');
    expect(() => loadConfig({ env: { TRIDENT_PROCESSOR_DEDUP_WINDOW: 'a day' } })).toThrow(/processor\.dedupWindow: expected a duration like 24h, 30m, 90s or 0s \(from TRIDENT_PROCESSOR_DEDUP_WINDOW\)/);
    expect(loadConfig({ env: {} }).producer.deliveryTimeoutMs).toBe(120_000);
  });
});
