/** Where model artifacts are: the folder named by the caller or the config, else the newest checked in. */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { modelConfigFromEnv } from '../common/config';
import { TridentError } from '../common/errors';
import { modelErrorCodes } from '../common/error-codes';

/**
 * The artifact folder: `--model`, else $TRIDENT_MODEL_DIR, else the newest folder under
 * model/artifacts/ of this checkout. Throws TridentError MODEL_NOT_FOUND when there is none, ConfigError
 * when the environment's model settings are invalid.
 */
export function resolveModelDir(explicit?: string): string {
  const chosen = explicit ?? modelConfigFromEnv().path;
  if (chosen) return path.resolve(chosen);
  // From model/ (ts) or dist/model/ (js), walk up to the checkout's model/artifacts.
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const artifacts = path.join(dir, 'model', 'artifacts');
    if (existsSync(artifacts)) {
      const newest = newestArtifact(artifacts);
      if (newest) return newest;
    }
  }
  throw new TridentError(modelErrorCodes.MODEL_NOT_FOUND, 'no model artifact: pass --model DIR or set TRIDENT_MODEL_DIR');
}

/**
 * The artifact folder under `artifacts` whose manifest was created last (folder mtimes are checkout
 * times in a fresh clone, so they cannot order releases); null when there is none.
 */
export function newestArtifact(artifacts: string): string | null {
  const candidates = readdirSync(artifacts)
    .map((name) => path.join(artifacts, name))
    .filter((p) => existsSync(path.join(p, 'manifest.json')))
    .map((p) => ({ p, created: createdAt(p) }))
    .sort((a, b) => b.created - a.created || b.p.localeCompare(a.p));
  return candidates[0]?.p ?? null;
}

/** The manifest's `created` time in ms; the folder's mtime when the manifest has none or is unreadable. */
function createdAt(dir: string): number {
  try {
    const created = Date.parse((JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { created?: string }).created ?? '');
    if (Number.isFinite(created)) return created;
  } catch {
    // fall through: an unreadable manifest fails properly when the artifact is loaded
  }
  return statSync(dir).mtimeMs;
}
