/**
 * Encodes and decodes Trident events in the Confluent wire format (magic byte 0, 4-byte schema id,
 * Avro body) through `@kafkajs/confluent-schema-registry`. Decoding resolves the writer's schema
 * (fetched by id, cached) against the reader's `.avsc`, so older events still decode after a
 * BACKWARD-compatible change, with new fields at their defaults.
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { schemaErrorCodes } from '../common/error-codes';
import { InvalidMessageError, TridentError, type MessageOrigin, type TridentErrorOptions } from '../common/errors';
import type { TridentConfig } from '../common/config';
import { fullName, loadSchema, subjectFor, topicKinds, type AvroRecordSchema, type TopicKind } from './catalog';
import type { TextEvent } from './generated/text';
import type { SentimentResult } from './generated/sentiment';
import type { EntitiesResult } from './generated/entities';
import type { AnswersResult } from './generated/answers';
import type { CategoriesResult } from './generated/categories';
import type { FeedbackEvent } from './generated/feedback';
import type { DeadLetter } from './generated/dlq';
import type { ModelVersion } from './generated/models';

export interface EventTypes {
  text: TextEvent;
  sentiment: SentimentResult;
  entities: EntitiesResult;
  answers: AnswersResult;
  categories: CategoriesResult;
  feedback: FeedbackEvent;
  dlq: DeadLetter;
  models: ModelVersion;
}

/** The registry operations the codec needs; the real client satisfies it, unit tests pass a fake. */
export interface SchemaRegistryClient {
  register(schema: { type: SchemaType; schema: string }, options: { subject: string }): Promise<{ id: number }>;
  getSchema(id: number): Promise<unknown>;
  /** Sets one subject's compatibility level (PUT /config/{subject}); see `EventCodec.registerOnce` for why. */
  setCompatibility?(subject: string, level: 'BACKWARD'): Promise<void>;
}

export const WIRE_HEADER_BYTES = 5;

/** The library's client plus the one registry call it does not expose. */
export class TridentSchemaRegistry extends SchemaRegistry implements SchemaRegistryClient {
  constructor(private readonly url: string) {
    super({ host: url, retry: { retries: 3 } });
  }

  async setCompatibility(subject: string, level: 'BACKWARD'): Promise<void> {
    const response = await fetch(`${this.url.replace(/\/+$/, '')}/config/${encodeURIComponent(subject)}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: level }),
    });
    if (!response.ok) throw new Error(`PUT /config/${subject}: HTTP ${response.status} ${(await response.text()).slice(0, 300)}`);
  }
}

export function createSchemaRegistry(config: TridentConfig): TridentSchemaRegistry {
  return new TridentSchemaRegistry(config.registry.url);
}

/**
 * The library registers a new subject's first schema and only then sets the subject's level; a
 * process killed between the two requests leaves the subject at the registry's default (NONE on
 * Apicurio), and the library refuses every later registration with this mismatch.
 */
function isUnsetCompatibility(error: unknown): boolean {
  return (error as Error | null)?.name === 'ConfluentSchemaRegistryCompatibilityError' && /!= NONE\)/.test((error as Error).message);
}

/** The registry refused or could not be reached; `code` is one of schemaErrorCodes. */
export class RegistryError extends TridentError {
  constructor(code: keyof typeof schemaErrorCodes, message: string, options?: TridentErrorOptions) {
    super(schemaErrorCodes[code], message, options);
  }
}

export class EventCodec {
  private readonly ids = new Map<string, Promise<number>>();
  private readonly readerTypes = new Map<TopicKind, avro.Type>();
  private readonly resolvers = new Map<string, avro.Type>();

  constructor(
    private readonly registry: SchemaRegistryClient,
    private readonly topics: Record<TopicKind, string>,
  ) {}

  static fromConfig(config: TridentConfig): EventCodec {
    return new EventCodec(createSchemaRegistry(config), config.topics);
  }

  /**
   * Registers the topic's schema under `<topic>-value` (BACKWARD compatibility) and remembers its id.
   * @throws RegistryError (code SCHEMA_INCOMPATIBLE with the registry's reason, or REGISTRY_UNAVAILABLE).
   */
  async register(kind: TopicKind, schema: AvroRecordSchema = loadSchema(kind)): Promise<number> {
    // One registration per kind at a time: concurrent first registrations of a subject race on its
    // compatibility setting in the registry client.
    const pending = this.registerOnce(kind, schema);
    this.ids.set(kind, pending);
    pending.catch(() => this.ids.get(kind) === pending && this.ids.delete(kind));
    return pending;
  }

  private async registerOnce(kind: TopicKind, schema: AvroRecordSchema): Promise<number> {
    const subject = subjectFor(this.topics[kind]);
    const register = () => this.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject });
    try {
      try {
        return (await register()).id;
      } catch (error) {
        // A first registration cut off before it set the level (see isUnsetCompatibility): Trident's
        // subjects are BACKWARD, so finish it, then register again.
        if (!isUnsetCompatibility(error) || !this.registry.setCompatibility) throw error;
        await this.registry.setCompatibility(subject, 'BACKWARD');
        return (await register()).id;
      }
    } catch (cause) {
      const status = (cause as { status?: number }).status;
      const message = (cause as Error).message;
      if (status === 409 || /incompatible|compatib/i.test(message)) {
        throw new RegistryError('SCHEMA_INCOMPATIBLE', `schema for ${subject} refused by the registry: ${message}`, { cause });
      }
      throw new RegistryError('REGISTRY_UNAVAILABLE', `cannot register ${subject}: ${message}`, { cause, retriable: true });
    }
  }

  /** Registers every topic's schema; idempotent. */
  async registerAll(): Promise<void> {
    for (const kind of topicKinds) await this.register(kind);
  }

  /** Encodes one event; validates it against the topic's schema first. Registers on first use. */
  async encode<K extends TopicKind>(kind: K, event: EventTypes[K]): Promise<Buffer> {
    const id = await (this.ids.get(kind) ?? this.register(kind));
    const type = this.readerType(kind);
    const problems: string[] = [];
    if (!type.isValid(event, { errorHook: (path) => problems.push(path.join('.') || '(root)') })) {
      throw new TridentError(schemaErrorCodes.EVENT_INVALID, `${kind} event does not match its schema at: ${problems.join(', ')}`);
    }
    const header = Buffer.alloc(WIRE_HEADER_BYTES);
    header.writeUInt8(0, 0);
    header.writeInt32BE(id, 1);
    return Buffer.concat([header, type.toBuffer(event)]);
  }

  /**
   * Decodes one message value of the given topic kind into a plain object.
   * @throws InvalidMessageError with code NULL_VALUE, NOT_AVRO, SCHEMA_UNKNOWN, SCHEMA_WRONG_TOPIC or
   *   AVRO_DECODE_FAILED; RegistryError (retriable) when the registry cannot be reached.
   */
  async decode<K extends TopicKind>(kind: K, value: Buffer | null, origin?: MessageOrigin): Promise<EventTypes[K]> {
    if (value === null || value === undefined) {
      throw new InvalidMessageError('NULL_VALUE', 'message has a null value (tombstone); expected an event', origin);
    }
    if (value.length < WIRE_HEADER_BYTES || value.readUInt8(0) !== 0) {
      throw new InvalidMessageError(
        'NOT_AVRO',
        `not in the Confluent wire format (expected magic byte 0 and a 4-byte schema id, got ${value.length} bytes starting 0x${value.subarray(0, 1).toString('hex') || '--'})`,
        origin,
      );
    }
    const id = value.readInt32BE(1);
    const writer = await this.writerType(id, origin);
    const reader = this.readerType(kind);
    const expected = fullName(loadSchema(kind));
    if (writer.name !== expected) {
      throw new InvalidMessageError(
        'SCHEMA_WRONG_TOPIC',
        `schema id ${id} is ${writer.name}, but ${this.topics[kind]} carries ${expected}`,
        origin,
      );
    }
    try {
      const resolver = this.resolver(kind, id, reader, writer);
      const decoded = reader.fromBuffer(value.subarray(WIRE_HEADER_BYTES), resolver as never, true);
      return toPlain(decoded) as EventTypes[K];
    } catch (cause) {
      throw new InvalidMessageError(
        'AVRO_DECODE_FAILED',
        `Avro body does not decode with schema id ${id}: ${(cause as Error).message}`,
        origin,
        { cause },
      );
    }
  }

  private readerType(kind: TopicKind): avro.Type {
    let type = this.readerTypes.get(kind);
    if (!type) {
      type = avro.Type.forSchema(loadSchema(kind) as avro.Schema);
      this.readerTypes.set(kind, type);
    }
    return type;
  }

  private async writerType(id: number, origin?: MessageOrigin): Promise<avro.Type> {
    try {
      return (await this.registry.getSchema(id)) as avro.Type;
    } catch (cause) {
      const status = (cause as { status?: number }).status;
      if (status === 404 || /not found/i.test((cause as Error).message)) {
        throw new InvalidMessageError('SCHEMA_UNKNOWN', `schema id ${id} is not in the registry`, origin, { cause });
      }
      throw new RegistryError('REGISTRY_UNAVAILABLE', `cannot fetch schema id ${id}: ${(cause as Error).message}`, {
        cause,
        retriable: true,
      });
    }
  }

  private resolver(kind: TopicKind, id: number, reader: avro.Type, writer: avro.Type): avro.Type {
    const cacheKey = `${kind}:${id}`;
    let resolver = this.resolvers.get(cacheKey);
    if (!resolver) {
      resolver = reader.createResolver(writer) as unknown as avro.Type;
      this.resolvers.set(cacheKey, resolver);
    }
    return resolver;
  }
}

/** avsc decodes records as class instances; callers and JSON output want plain objects. */
export function toPlain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map(toPlain);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toPlain(v);
    return out;
  }
  return value;
}
