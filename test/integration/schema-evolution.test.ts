import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { EventCodec, RegistryError, type SchemaRegistryClient } from '../../schemas/codec';
import { loadSchema } from '../../schemas/catalog';
import { testConfig } from './harness';

describe('schema evolution against the real registry', () => {
  it('accepts a BACKWARD-compatible change (a defaulted field) and old events still decode', async () => {
    const { config } = testConfig('schema-ok');
    const registry = new SchemaRegistry({ host: config.registry.url });
    const oldCodec = new EventCodec(registry as unknown as SchemaRegistryClient, config.topics);
    const event = {
      id: 'old-1',
      text: 'written before the change',
      tasks: null,
      questions: [],
      key: null,
      tenant: null,
      metadata: {},
      createdAt: 1,
    };
    const oldBytes = await oldCodec.encode('text', event);

    const v1 = loadSchema('text');
    const v2 = { ...v1, fields: [...v1.fields, { name: 'priority', type: 'int', default: 0 }] };
    const newCodec = new EventCodec(registry as unknown as SchemaRegistryClient, config.topics);
    const v2Id = await newCodec.register('text', v2);
    expect(v2Id).not.toBe(oldBytes.readInt32BE(1));

    // A fresh client (nothing cached) decodes the old bytes with the current reader schema.
    const reader = new EventCodec(new SchemaRegistry({ host: config.registry.url }) as unknown as SchemaRegistryClient, config.topics);
    expect(await reader.decode('text', oldBytes)).toEqual(event);
  });

  it('refuses an incompatible change with the registry’s reason', async () => {
    const { config } = testConfig('schema-bad');
    const registry = new SchemaRegistry({ host: config.registry.url });
    const codec = new EventCodec(registry as unknown as SchemaRegistryClient, config.topics);
    await codec.register('text');
    const v1 = loadSchema('text');
    // A new required field without a default cannot read old events: not BACKWARD compatible.
    const incompatible = { ...v1, fields: [...v1.fields, { name: 'mustHave', type: 'string' }] };
    const error = await codec.register('text', incompatible).catch((e) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.code).toBe('SCHEMA_INCOMPATIBLE');
    expect(error.message).toMatch(/refused by the registry: .+/);
  });

  it('registers on a subject whose first registration was cut off before its level was set (a killed processor)', async () => {
    const { config } = testConfig('schema-cut');
    const subject = `${config.topics.answers}-value`;
    const base = config.registry.url.replace(/\/+$/, '');
    // What the library's first registration does before it sets the level: the schema alone.
    const posted = await fetch(`${base}/subjects/${encodeURIComponent(subject)}/versions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(loadSchema('answers')) }),
    });
    expect(posted.status).toBe(200);
    const level = async () => {
      const response = await fetch(`${base}/config/${encodeURIComponent(subject)}`);
      return response.ok ? ((await response.json()) as { compatibilityLevel: string }).compatibilityLevel : `HTTP ${response.status}`;
    };
    const before = await level();
    // The library alone refuses this subject from now on (unless the registry reports no level at all).
    const plain = await new SchemaRegistry({ host: config.registry.url })
      .register({ type: SchemaType.AVRO, schema: JSON.stringify(loadSchema('answers')) }, { subject })
      .catch((e: Error) => e);
    if (before === 'NONE') expect(plain).toMatchObject({ name: 'ConfluentSchemaRegistryCompatibilityError' });

    const codec = EventCodec.fromConfig(config);
    expect(await codec.register('answers')).toBeGreaterThan(0);
    expect(await level()).toBe('BACKWARD');
  });
});
