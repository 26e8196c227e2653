/**
 * Writes an artifact's reference drift profile (`profile.json`, model/evaluation/drift.ts) from a
 * JSON-lines sample of its training texts (`{"text", "questions"?}` per line):
 *
 *   node dist/model/evaluation/profile-artifact.js ARTIFACT_DIR TEXTS.jsonl [SOURCE]
 *
 * The exporter (training/trident_training/export.py) runs it for every new artifact;
 * `training/trident_training/profile_texts.py` writes the sample.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Pipeline } from '../pipeline';
import type { PredictInput } from '../types';
import { PROFILE_FILE, type Profile } from './drift';
import { ArtifactProfiler } from './profiler';

/** Runs the texts through the artifact and returns its profile. Does not block. Throws on a bad artifact or line. */
export async function profileArtifact(artifact: string, inputs: readonly PredictInput[], source: string): Promise<Profile> {
  const pipeline = await Pipeline.load(artifact, { batching: 'per-input' });
  try {
    const profiler = new ArtifactProfiler(artifact, pipeline.manifest);
    for (let i = 0; i < inputs.length; i += 128) {
      const chunk = inputs.slice(i, i + 128);
      const outputs = await pipeline.run(chunk, pipeline.tasks);
      await profiler.add(
        chunk.map((x) => x.text),
        outputs,
      );
    }
    return profiler.build(source);
  } finally {
    await pipeline.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [artifact, textsFile, source] = argv;
  if (!artifact || !textsFile) throw new Error('usage: profile-artifact ARTIFACT_DIR TEXTS.jsonl [SOURCE]');
  const inputs = readFileSync(textsFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      const r = JSON.parse(l) as { text: string; questions?: string[] };
      return { id: `t${i}`, text: r.text, ...(r.questions?.length ? { questions: r.questions } : {}) };
    });
  const profile = await profileArtifact(artifact, inputs, source ?? `${path.basename(textsFile)} (${inputs.length} texts)`);
  writeFileSync(path.join(artifact, PROFILE_FILE), JSON.stringify(profile, null, 1) + '\n');
  process.stderr.write(`profile-artifact: wrote ${path.join(artifact, PROFILE_FILE)} from ${inputs.length} texts\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`profile-artifact: ${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
