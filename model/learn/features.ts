/**
 * Features for the learner: the production encoder's hidden states for each example's text (and
 * question), through the runtime's own feature decoder (Pipeline.features), once per text and
 * encoder thanks to the on-disk cache.
 */
import type { FeatureRequest, TextFeatures } from '../feature-decoder';
import type { Pipeline } from '../pipeline';
import { FeatureCache, textKey } from './feature-cache';
import type { LearnProgress } from './types';

/** One thing to featurise: a text, or a (text, question) pair for the answers head. */
export interface FeatureItem {
  text: string;
  question?: string;
}

/** Texts per Pipeline.features call: enough to keep the worker busy, few enough for steady progress. */
const CHUNK = 64;

/** What a cached entry must hold to serve `request`. */
function serves(f: TextFeatures, request: FeatureRequest, question: boolean): boolean {
  if (question) return f.questions.length === 1;
  return (!request.pooled || f.cls !== null) && (!request.tokens || f.tokens !== null);
}

/**
 * Features of every item, same order (duplicates computed once). Text items get `request`'s pooled
 * and/or token features; question items their question rows (`questions[0]`). Cached entries are
 * read, the rest computed in chunks through `pipeline` and stored; the cache is then trimmed to its
 * bound. Reports `{kind: 'features'}` progress after each chunk. Does not block for long (encoder in
 * the worker; cache I/O is per entry). Throws what Pipeline.features throws on an invalid text.
 */
export async function featurize(
  pipeline: Pipeline,
  items: readonly FeatureItem[],
  request: Omit<FeatureRequest, 'questions'>,
  cache: FeatureCache | null,
  onProgress?: (event: LearnProgress) => void,
): Promise<TextFeatures[]> {
  const keys = items.map((item) => textKey(item.text, item.question));
  const unique = new Map<string, FeatureItem>();
  keys.forEach((key, i) => unique.set(key, items[i]));
  const found = new Map<string, TextFeatures>();
  const missing: Array<[string, FeatureItem]> = [];
  for (const [key, item] of unique) {
    const cached = cache?.get(key) ?? null;
    if (cached && serves(cached, request as FeatureRequest, item.question !== undefined)) found.set(key, { ...cached, text: item.text });
    else missing.push([key, item]);
  }
  const cachedCount = found.size;
  const total = unique.size;
  onProgress?.({ kind: 'features', done: found.size, total, cached: cachedCount });
  // Text items and question items go in separate calls: their requests differ.
  const texts = missing.filter(([, item]) => item.question === undefined);
  const pairs = missing.filter(([, item]) => item.question !== undefined);
  for (const [group, featureRequest] of [
    [texts, { ...request, questions: false }],
    [pairs, { pooled: false, tokens: false, questions: true }],
  ] as const) {
    for (let at = 0; at < group.length; at += CHUNK) {
      const chunk = group.slice(at, at + CHUNK);
      const inputs = chunk.map(([key, item]) => ({
        id: key,
        text: item.text,
        ...(item.question !== undefined ? { questions: [item.question] } : {}),
      }));
      const computed = await pipeline.features(inputs, featureRequest);
      computed.forEach((features, k) => {
        const key = chunk[k][0];
        found.set(key, features);
        cache?.put(key, features);
      });
      onProgress?.({ kind: 'features', done: found.size, total, cached: cachedCount });
    }
  }
  cache?.evict();
  return keys.map((key) => found.get(key)!);
}
