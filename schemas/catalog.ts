/**
 * The event contracts: one Avro schema per topic kind, in `schemas/avro/*.avsc`. Topic names come
 * from config; subjects follow TopicNameStrategy (`<topic>-value`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TridentConfig } from '../common/config';

export const topicKinds = ['text', 'sentiment', 'entities', 'answers', 'categories', 'feedback', 'dlq', 'models'] as const;
export type TopicKind = (typeof topicKinds)[number];

export function avscPath(kind: TopicKind): string {
  return join(resolveAvroDir(), `${kind}.avsc`);
}

function resolveAvroDir(): string {
  // Under ts (jest) __dirname is <repo>/schemas; compiled it is <repo>/dist/schemas.
  const parts = __dirname.split(/[\\/]/);
  const repoRoot = parts[parts.length - 2] === 'dist' ? join(__dirname, '..', '..') : join(__dirname, '..');
  return join(repoRoot, 'schemas', 'avro');
}

const cache = new Map<TopicKind, AvroRecordSchema>();

export interface AvroRecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  fields: unknown[];
  [key: string]: unknown;
}

export function loadSchema(kind: TopicKind): AvroRecordSchema {
  let schema = cache.get(kind);
  if (!schema) {
    schema = JSON.parse(readFileSync(avscPath(kind), 'utf8')) as AvroRecordSchema;
    cache.set(kind, schema);
  }
  return schema;
}

export function fullName(schema: { name: string; namespace?: string }): string {
  return schema.name.includes('.') || !schema.namespace ? schema.name : `${schema.namespace}.${schema.name}`;
}

export function topicFor(config: TridentConfig, kind: TopicKind): string {
  return config.topics[kind];
}

export function subjectFor(topic: string): string {
  return `${topic}-value`;
}
