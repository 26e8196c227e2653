/**
 * Generates TypeScript types from the `.avsc` files into `schemas/generated/`. `--write` writes
 * them; `--check` exits 1 when the committed files differ (a test runs the same comparison).
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { toTypeScript } from '@ovotech/avro-ts';
import { topicKinds, loadSchema, avscPath, type TopicKind } from './catalog';

export function generatedPath(kind: TopicKind): string {
  return join(avscPath(kind), '..', '..', 'generated', `${kind}.ts`);
}

export function generateTypes(kind: TopicKind): string {
  // avro-ts calls TypeScript factory functions that print deprecation warnings; they are harmless.
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    const body = toTypeScript(loadSchema(kind) as never, { logicalTypes: { 'timestamp-millis': 'number' } });
    return `// Generated from schemas/avro/${kind}.avsc by schemas/codegen.ts. Do not edit: run \`npm run schemas:types\`.\n${body}`;
  } finally {
    console.warn = warn;
  }
}

/** Kinds whose committed generated file differs from what the `.avsc` gives now. */
export function driftedKinds(): TopicKind[] {
  return topicKinds.filter((kind) => {
    const path = generatedPath(kind);
    return !existsSync(path) || readFileSync(path, 'utf8') !== generateTypes(kind);
  });
}

if (require.main === module) {
  const mode = process.argv[2] ?? '--check';
  if (mode === '--write') {
    for (const kind of topicKinds) {
      mkdirSync(join(generatedPath(kind), '..'), { recursive: true });
      writeFileSync(generatedPath(kind), generateTypes(kind));
    }
    console.log(`wrote ${topicKinds.length} files to schemas/generated/`);
  } else {
    const drifted = driftedKinds();
    if (drifted.length > 0) {
      console.error(`schemas/generated is out of date for: ${drifted.join(', ')}. Run npm run schemas:types.`);
      process.exit(1);
    }
    console.log('schemas/generated matches schemas/avro');
  }
}
