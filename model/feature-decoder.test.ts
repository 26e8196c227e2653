import { aggregateWords } from './decode/aggregate';
import { decodeBio } from './decode/bio';
import { bestSpanInWindow } from './decode/qa';
import { softmax } from './decode/softmax';
import { loadHeads, runHead } from './heads';
import { loadManifest } from './manifest';
import { Pipeline } from './pipeline';
import { TEST_ARTIFACT } from './testing';

// The features must be exactly what the heads read in `run`: running the heads on them by hand must
// give run's outputs. Long texts make several windows (test artifact: max_length 32, stride 8).
const LONG = 'Angela Merkel visited the Siemens plant in Munich and said the new factory was wonderful. '.repeat(4);
const INPUTS = [
  { id: 'a', text: 'I loved this film, Paris was lovely.', questions: ['Where?', 'What did I love?'] },
  { id: 'b', text: LONG, questions: ['Who visited the plant in Munich?'] },
];

describe('Pipeline.features', () => {
  let pipeline: Pipeline;
  const heads = loadHeads(loadManifest(TEST_ARTIFACT));
  beforeAll(async () => {
    pipeline = await Pipeline.load(TEST_ARTIFACT, { batching: 'per-input' });
  });
  afterAll(() => pipeline.close());

  it('gives the pooled vectors the sentiment and categories heads read, per window', async () => {
    const features = await pipeline.features(INPUTS, { pooled: true, tokens: false, questions: false });
    const outputs = await pipeline.run(INPUTS, ['sentiment', 'categories']);
    expect(features[1].windows).toBeGreaterThan(1);
    features.forEach((f, i) => {
      expect(f.tokens).toBeNull();
      expect(f.questions).toEqual([]);
      const logits = runHead(heads.get('sentiment')!, f.cls!, f.windows);
      const mean = [0, 0];
      for (let w = 0; w < f.windows; w++) softmax(logits, 2 * w, 2).forEach((p, k) => (mean[k] += p / f.windows));
      expect(mean[0]).toBeCloseTo(outputs[i].sentiment!.scores.negative, 6);
      expect(mean[1]).toBeCloseTo(outputs[i].sentiment!.scores.positive, 6);
    });
  });

  it('gives each token the vector the entities head reads, with offsets and word ids', async () => {
    const [f] = await pipeline.features([INPUTS[1]], { pooled: false, tokens: true, questions: false });
    const [out] = await pipeline.run([INPUTS[1]], ['entities']);
    const head = heads.get('entities')!;
    const labels = head.spec.labels.length;
    const count = f.offsets.length / 2;
    expect(f.tokens!.length).toBe(count * f.hiddenSize);
    const logits = runHead(head, f.tokens!, count);
    const probs = new Float64Array(count * labels);
    for (let t = 0; t < count; t++) probs.set(softmax(logits, t * labels, labels), t * labels);
    const words = aggregateWords(probs, labels, f.wordIds, 'first');
    const spans = decodeBio(
      words.map((w) => ({
        label: head.spec.labels[w.labelIndex],
        score: w.score,
        start: f.offsets[2 * w.firstToken],
        end: f.offsets[2 * w.lastToken + 1],
      })),
    );
    expect(spans.map((e) => [e.label, e.start, e.end])).toEqual(out.entities!.map((e) => [e.label, e.start, e.end]));
    spans.forEach((e, k) => expect(e.score).toBeCloseTo(out.entities![k].score, 6));
    expect(words.length).toBeGreaterThan(40);
  });

  it('gives every (question, window) row with its context positions, as the answers head reads them', async () => {
    const features = await pipeline.features(INPUTS, { pooled: false, tokens: false, questions: true });
    const outputs = await pipeline.run(INPUTS, ['answers']);
    const head = heads.get('answers')!;
    expect(features[1].questions[0].rows.length).toBeGreaterThan(1);
    features.forEach((f, i) => {
      expect(f.windows).toBe(0);
      f.questions.forEach((q, qi) => {
        let best: { score: number; start: number; end: number } | null = null;
        for (const row of q.rows) {
          const logits = runHead(head, row.hidden, row.length);
          const s = Array.from({ length: row.length }, (_, p) => logits[2 * p]);
          const e = Array.from({ length: row.length }, (_, p) => logits[2 * p + 1]);
          const span = bestSpanInWindow(
            s,
            e,
            Array.from(row.tokenIndex, (t) => t >= 0),
            30,
          );
          if (span && (!best || span.score > best.score))
            best = {
              score: span.score,
              start: f.offsets[2 * row.tokenIndex[span.start]],
              end: f.offsets[2 * row.tokenIndex[span.end] + 1],
            };
        }
        expect(best!.score).toBeCloseTo(outputs[i].answers![qi].score, 6);
        if (outputs[i].answers![qi].start !== null) expect(best!.start).toBe(outputs[i].answers![qi].start);
      });
    });
  });
});
