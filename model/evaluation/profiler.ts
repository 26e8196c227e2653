/**
 * Builds a drift profile (drift.ts) of what one artifact sees and says: its tokenizer's view of the
 * texts and the model's outputs. Used live by evaluations and at export time for the reference.
 */
import * as path from 'node:path';
import { TextTokenizer } from '../tokenize';
import type { Manifest } from '../manifest';
import type { PredictOutput } from '../types';
import { ProfileBuilder, textFeatures, type FeatureName, type Profile } from './drift';
import { categoryKey } from './score';

export class ArtifactProfiler {
  private readonly tokenizer: TextTokenizer;
  private readonly unknownId: number | null;
  private readonly builder = new ProfileBuilder();
  private readonly categoryHeads: string[];

  /** Loads the artifact's tokenizer (blocks while it parses tokenizer.json). */
  constructor(artifact: string, manifest: Manifest) {
    this.tokenizer = TextTokenizer.fromFile(path.join(artifact, manifest.tokenizer.file));
    this.unknownId = this.tokenizer.tokenId('[UNK]');
    this.categoryHeads = Object.entries(manifest.heads)
      .filter(([, h]) => h.task === 'categories')
      .map(([name]) => name);
  }

  /**
   * Adds texts and their outputs (null where the model gave none); returns each text's features.
   * Does not block (tokenises on the thread pool).
   */
  async add(texts: readonly string[], outputs: ReadonlyArray<PredictOutput | null>): Promise<Array<Record<FeatureName, number>>> {
    const features = (await this.tokenizer.tokenizeBatch(texts)).map((tokens) => textFeatures(tokens, this.unknownId));
    for (const f of features) this.builder.addText(f);
    for (const output of outputs) if (output) this.builder.addOutput(output, this.taskKey);
    return features;
  }

  /** The report's and the metrics' task key of a category head. */
  readonly taskKey = (head: string): string => categoryKey(head, this.categoryHeads);

  build(source: string): Profile {
    return this.builder.build(source);
  }
}
