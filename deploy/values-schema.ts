/**
 * The Helm chart's values.schema.json, generated from the typed config (common/config.ts), so that
 * `helm install`/`helm template` refuse an unknown config key or a value of the wrong type under
 * `config`, `processor.config` or `gateway.config` before anything reaches a cluster.
 * `npm run helm:schema` rewrites the file; a test fails when it is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { configSchema } from '../common/config';

const repoRoot = (() => {
  // Under ts (jest) __dirname is <repo>/deploy; compiled it is <repo>/dist/deploy.
  const parts = __dirname.split(/[\\/]/);
  return parts[parts.length - 2] === 'dist' ? join(__dirname, '..', '..') : join(__dirname, '..');
})();
export const valuesSchemaPath = join(repoRoot, 'deploy', 'helm', 'trident', 'values.schema.json');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Drops what depends on the machine or is not a constraint: defaults (some are home folders), descriptions. */
function constraintsOnly(node: Json): Json {
  if (Array.isArray(node)) return node.map(constraintsOnly);
  if (node === null || typeof node !== 'object') return node;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'default' || key === 'description' || key === '$schema') continue;
    out[key] = constraintsOnly(value);
  }
  return out;
}

/** The chart's values schema as a JSON object. Pure. */
export function valuesSchema(): Json {
  // `input`: keys with defaults are optional, as they are in the chart's values. Draft 7: Helm 3
  // releases before 3.18 validate no later draft.
  const config = constraintsOnly(z.toJSONSchema(configSchema, { io: 'input', target: 'draft-7' }) as Json);
  const replicas = { type: 'integer', minimum: 1 };
  const component = (extra: { [key: string]: Json }): Json => ({
    type: 'object',
    properties: { config: { $ref: '#/definitions/tridentConfig' }, ...extra },
  });
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    properties: {
      config: { $ref: '#/definitions/tridentConfig' },
      processor: component({ replicas }),
      gateway: component({ replicas, enabled: { type: 'boolean' } }),
      keda: {
        type: 'object',
        properties: {
          enabled: { type: 'boolean' },
          minReplicas: { type: 'integer', minimum: 0 },
          maxReplicas: replicas,
          lagThreshold: replicas,
        },
      },
    },
    definitions: { tridentConfig: config },
  };
}

export function valuesSchemaText(): string {
  return JSON.stringify(valuesSchema(), null, 2) + '\n';
}

if (require.main === module) {
  if (process.argv.includes('--write')) {
    writeFileSync(valuesSchemaPath, valuesSchemaText());
    console.log(`wrote ${valuesSchemaPath}`);
  } else {
    const current = readFileSync(valuesSchemaPath, 'utf8');
    if (current !== valuesSchemaText()) {
      console.error(`${valuesSchemaPath} is out of date: run npm run helm:schema`);
      process.exit(1);
    }
  }
}
