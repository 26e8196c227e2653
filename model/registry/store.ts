/**
 * Where registered artifacts live. An artifact is stored under the sha256 of its manifest.json
 * (which names the sha256 of every other file), so a stored copy can never change under its version.
 * Registering stages a copy, the caller verifies the copy, and only then is it committed.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, accessSync, constants } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TridentError } from '../../common/errors';
import { loadManifest, sha256File } from '../manifest';

/** A copy of an artifact inside the store, not yet visible under its digest. */
export interface StagedArtifact {
  /** Local folder holding the staged copy (verify this one, not the source). */
  dir: string;
  digest: string;
  /** Makes the copy visible under its digest; returns its location (what the registry record stores). */
  commit(): Promise<string>;
  /** Deletes the staged copy. */
  discard(): Promise<void>;
}

export interface ArtifactStore {
  /** Where the store is, for messages. */
  readonly description: string;
  /** Copies an artifact folder in (manifest.json, parity.json and every file the manifest names). Throws MODEL_STORE_NOT_WRITABLE. */
  stage(sourceDir: string): Promise<StagedArtifact>;
  /** A local folder with the artifact stored under `digest`, or null when the store does not have it. */
  fetch(digest: string): Promise<string | null>;
}

/** sha256 of the artifact folder's manifest.json: the artifact's identity. Throws ModelArtifactError naming the file. */
export function artifactDigest(dir: string): string {
  loadManifest(dir);
  return sha256File(path.join(dir, 'manifest.json'));
}

/** The files that make up an artifact, relative to its folder. */
export function artifactFiles(dir: string): string[] {
  const { manifest } = loadManifest(dir);
  const files = new Set([
    'manifest.json',
    manifest.tokenizer.file,
    manifest.encoder.file,
    ...Object.values(manifest.heads).map((h) => h.file),
  ]);
  if (existsSync(path.join(dir, 'parity.json'))) files.add('parity.json');
  return [...files];
}

/** Parses `models.store`: a folder path or a file:// URL. Throws ConfigError-like TridentError for other schemes. */
export function storeFromConfig(value: string): ArtifactStore {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    if (!value.startsWith('file://')) {
      throw new TridentError(
        'CONFIG_INVALID',
        `config models.store: ${value}: only folder paths and file:// URLs are supported (an object store needs its own ArtifactStore; see README "Model versions")`,
      );
    }
    return new FileArtifactStore(fileURLToPath(value));
  }
  return new FileArtifactStore(path.resolve(value));
}

/** The store on a local (or shared, mounted) file system: `<root>/sha256/<digest>/`. */
export class FileArtifactStore implements ArtifactStore {
  constructor(readonly root: string) {}

  get description(): string {
    return this.root;
  }

  folderOf(digest: string): string {
    return path.join(this.root, 'sha256', digest);
  }

  async stage(sourceDir: string): Promise<StagedArtifact> {
    const source = path.resolve(sourceDir);
    const digest = artifactDigest(source);
    const files = artifactFiles(source);
    const incoming = path.join(this.root, 'incoming', `${digest.slice(0, 12)}-${randomBytes(4).toString('hex')}`);
    try {
      mkdirSync(incoming, { recursive: true });
      accessSync(incoming, constants.W_OK);
    } catch (cause) {
      throw new TridentError(
        'MODEL_STORE_NOT_WRITABLE',
        `model store ${this.root} is not writable (${(cause as Error).message}); set models.store to a writable folder`,
        { cause },
      );
    }
    try {
      for (const file of files) {
        const target = path.join(incoming, file);
        mkdirSync(path.dirname(target), { recursive: true });
        copyFileSync(path.join(source, file), target);
      }
    } catch (cause) {
      rmSync(incoming, { recursive: true, force: true });
      throw new TridentError('MODEL_ARTIFACT_INVALID', `cannot copy ${source} into the model store: ${(cause as Error).message}`, {
        cause,
      });
    }
    const final = this.folderOf(digest);
    return {
      dir: incoming,
      digest,
      commit: async () => {
        mkdirSync(path.dirname(final), { recursive: true });
        if (existsSync(path.join(final, 'manifest.json'))) rmSync(incoming, { recursive: true, force: true });
        else {
          rmSync(final, { recursive: true, force: true });
          // rename is atomic within one file system: readers see the whole folder or none of it.
          renameSync(incoming, final);
        }
        return final;
      },
      discard: async () => rmSync(incoming, { recursive: true, force: true }),
    };
  }

  async fetch(digest: string): Promise<string | null> {
    const dir = this.folderOf(digest);
    return existsSync(path.join(dir, 'manifest.json')) ? dir : null;
  }
}
