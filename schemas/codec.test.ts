import avro from 'avsc';
import { EventCodec, type SchemaRegistryClient } from './codec';
import { loadSchema, topicKinds, type TopicKind } from './catalog';
import { InvalidMessageError } from '../common/errors';

/** An in-memory stand-in for the registry's two calls, for unit tests only (integration tests use the real one). */
class FakeRegistry implements SchemaRegistryClient {
  readonly schemas = new Map<number, avro.Type>();
  private next = 1;
  async register(schema: { schema: string }): Promise<{ id: number }> {
    const id = this.next++;
    this.schemas.set(id, avro.Type.forSchema(JSON.parse(schema.schema)));
    return { id };
  }
  async getSchema(id: number): Promise<unknown> {
    const type = this.schemas.get(id);
    if (!type) throw Object.assign(new Error('Schema not found'), { status: 404 });
    return type;
  }
}

const topics = Object.fromEntries(topicKinds.map((k) => [k, `t.${k}`])) as Record<TopicKind, string>;
const origin = { topic: 't.text', partition: 2, offset: '17' };
const textEvent = {
  id: 'e1',
  text: 'Olá, Lisboa',
  tasks: ['sentiment'],
  questions: [],
  key: null,
  tenant: null,
  metadata: { a: 'b' },
  createdAt: 1700000000000,
};

describe('EventCodec', () => {
  it('round-trips an event in the Confluent wire format', async () => {
    const codec = new EventCodec(new FakeRegistry(), topics);
    const bytes = await codec.encode('text', textEvent);
    expect(bytes[0]).toBe(0);
    expect(bytes.readInt32BE(1)).toBe(1);
    expect(await codec.decode('text', bytes, origin)).toEqual(textEvent);
  });

  it('refuses to encode an event that does not match the schema, naming the field', async () => {
    const codec = new EventCodec(new FakeRegistry(), topics);
    await expect(codec.encode('text', { ...textEvent, text: 5 } as never)).rejects.toThrow(/at: text/);
  });

  it.each([
    [null, 'NULL_VALUE'],
    [Buffer.from('{"json":true}'), 'NOT_AVRO'],
    [Buffer.from([0, 0]), 'NOT_AVRO'],
    [Buffer.from([0, 0, 0, 0, 99, 1]), 'SCHEMA_UNKNOWN'],
  ])('rejects %p with %s, carrying topic/partition/offset', async (value, code) => {
    const codec = new EventCodec(new FakeRegistry(), topics);
    const error = await codec.decode('text', value as Buffer | null, origin).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidMessageError);
    expect(error.code).toBe(code);
    expect(error.origin).toEqual(origin);
    expect(error.message).toMatch(/^t\.text\[2\]@17: /);
  });

  it('rejects an event written with another topic’s schema', async () => {
    const registry = new FakeRegistry();
    const codec = new EventCodec(registry, topics);
    const feedback = await codec.encode('feedback', {
      id: 'f',
      text: 't',
      task: 'sentiment',
      head: null,
      label: 'positive',
      entities: [],
      answer: null,
      source: 's',
      modelVersion: null,
      createdAt: 1,
    });
    await expect(codec.decode('text', feedback, origin)).rejects.toMatchObject({ code: 'SCHEMA_WRONG_TOPIC' });
  });

  it('rejects a body that does not decode', async () => {
    const codec = new EventCodec(new FakeRegistry(), topics);
    const bytes = await codec.encode('text', textEvent);
    await expect(codec.decode('text', bytes.subarray(0, 9), origin)).rejects.toMatchObject({ code: 'AVRO_DECODE_FAILED' });
  });

  it('decodes events of an older writer schema with new fields at their defaults', async () => {
    const registry = new FakeRegistry();
    const older = loadSchema('text');
    const olderWithoutTenant = { ...older, fields: (older.fields as Array<{ name: string }>).filter((f) => f.name !== 'tenant') };
    const { id } = await registry.register({ schema: JSON.stringify(olderWithoutTenant) });
    const { tenant: _dropped, ...oldEvent } = textEvent;
    const body = avro.Type.forSchema(olderWithoutTenant as avro.Schema).toBuffer(oldEvent);
    const header = Buffer.from([0, 0, 0, 0, id]);
    const codec = new EventCodec(registry, topics);
    expect(await codec.decode('text', Buffer.concat([header, body]), origin)).toEqual({ ...oldEvent, tenant: null });
  });
});

describe('EventCodec registration', () => {
  it('registers a subject once even when many events are encoded at the same time', async () => {
    const registry = new FakeRegistry();
    const calls: string[] = [];
    const register = registry.register.bind(registry);
    registry.register = async (schema) => {
      calls.push('register');
      await new Promise((r) => setTimeout(r, 5));
      return register(schema);
    };
    const codec = new EventCodec(registry, topics);
    await Promise.all(Array.from({ length: 10 }, (_, i) => codec.encode('text', { ...textEvent, id: `e${i}` })));
    expect(calls).toEqual(['register']);
  });

  /** The library's refusal when a subject's level is not the one it asks for (the state a cut-off first registration leaves). */
  function levelMismatch(level: string): Error {
    return Object.assign(new Error(`Compatibility does not match the configuration (BACKWARD != ${level})`), {
      name: 'ConfluentSchemaRegistryCompatibilityError',
    });
  }

  it('finishes a first registration cut off before it set the subject to BACKWARD, then registers', async () => {
    const registry = new FakeRegistry();
    const levels = new Map<string, string>([['t.answers-value', 'NONE']]);
    const register = registry.register.bind(registry);
    const calls: string[] = [];
    Object.assign(registry, {
      register: async (schema: { schema: string }, options: { subject: string }) => {
        calls.push(`register ${options.subject}`);
        const level = levels.get(options.subject);
        if (level && level !== 'BACKWARD') throw levelMismatch(level);
        return register(schema);
      },
      setCompatibility: async (subject: string, level: string) => {
        calls.push(`set ${subject} ${level}`);
        levels.set(subject, level);
      },
    });
    const codec = new EventCodec(registry, topics);
    expect(await codec.register('answers')).toBe(1);
    expect(calls).toEqual(['register t.answers-value', 'set t.answers-value BACKWARD', 'register t.answers-value']);
  });

  it('leaves a level someone chose (not NONE) alone and refuses with the registry’s reason', async () => {
    const registry = new FakeRegistry();
    let set = 0;
    Object.assign(registry, {
      register: async () => {
        throw levelMismatch('FULL');
      },
      setCompatibility: async () => void (set += 1),
    });
    const error = await new EventCodec(registry, topics).register('answers').catch((e) => e);
    expect(error).toMatchObject({ code: 'SCHEMA_INCOMPATIBLE' });
    expect(error.message).toMatch(/BACKWARD != FULL/);
    expect(set).toBe(0);
  });
});
