/**
 * One way to name a model everywhere `--model` is accepted: an artifact folder, or a registry
 * version (`1.1.0`, `NAME@1.1.0`, `production`, `NAME@production`).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { TridentConfig } from '../../common/config';
import { resolveModelDir } from '../artifacts';
import { ModelRegistry } from './registry';
import { looksLikeVersionRef, parseVersionRef, resolveVersion, type VersionRef } from './state';

export type ModelChoice = { kind: 'folder'; dir: string } | { kind: 'version'; ref: VersionRef } | { kind: 'production'; name?: string };

/**
 * What a `--model` value (or model.path, or $TRIDENT_MODEL_DIR) names. An existing folder wins
 * over a version-looking name; nothing at all means the registry's production version. Pure apart
 * from checking whether the folder exists.
 */
export function chooseModel(value: string | undefined, envDir: string | undefined = process.env.TRIDENT_MODEL_DIR): ModelChoice {
  const chosen = value ?? envDir;
  if (!chosen) return { kind: 'production' };
  if (existsSync(chosen) || !looksLikeVersionRef(chosen)) return { kind: 'folder', dir: path.resolve(chosen) };
  const ref = parseVersionRef(chosen);
  if (ref.version === 'production') return ref.name ? { kind: 'production', name: ref.name } : { kind: 'production' };
  return { kind: 'version', ref };
}

/**
 * The artifact folder for a `--model` value of a command that runs the model once (predict): a
 * folder as it is; a version from the store (the registry says which digest). Without a value,
 * the newest folder under model/artifacts/ (no Kafka needed). Throws MODEL_VERSION_UNKNOWN,
 * MODEL_ARTIFACT_MISSING, MODEL_NOT_FOUND.
 */
export async function resolveModelArgument(
  value: string | undefined,
  config: TridentConfig,
): Promise<{ dir: string; digest: string | null }> {
  if (value === undefined) return { dir: resolveModelDir(undefined), digest: null };
  const choice = chooseModel(value, undefined);
  if (choice.kind === 'folder') return { dir: choice.dir, digest: null };
  const registry = ModelRegistry.fromConfig(config, 'trident-predict');
  const state = await registry.state();
  const found = resolveVersion(
    state,
    choice.kind === 'version' ? choice.ref : { ...(choice.name ? { name: choice.name } : {}), version: 'production' },
  );
  return { dir: await registry.artifactDir(found.record), digest: found.record.artifactDigest };
}
