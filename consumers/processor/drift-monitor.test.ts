import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { metricsRegistry } from '../../common/metrics';
import { Pipeline } from '../../model/pipeline';
import { TEST_ARTIFACT } from '../../model/testing';
import { PROFILE_FILE } from '../../model/evaluation/drift';
import { profileArtifact } from '../../model/evaluation/profile-artifact';
import { DriftMonitor } from './drift-monitor';

const latin = ['The bank charged me twice.', 'Ada Lovelace lived in London.', 'A dull and tedious film.', 'Where is my new card?'].map(
  (text, i) => ({ id: `l${i}`, text }),
);
const cyrillic = ['Банк списал деньги дважды.', 'Где моя новая карта?', 'Скучный и утомительный фильм.', 'Ада Лавлейс жила в Лондоне.'].map(
  (text, i) => ({ id: `c${i}`, text }),
);

describe('DriftMonitor', () => {
  let dir: string;
  let pipeline: Pipeline;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'trident-drift-'));
    cpSync(TEST_ARTIFACT, dir, { recursive: true });
    writeFileSync(path.join(dir, PROFILE_FILE), JSON.stringify(await profileArtifact(dir, latin, 'test texts')));
    pipeline = await Pipeline.load(dir);
  });
  afterAll(async () => {
    await pipeline.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is off without profile.json', () => {
    expect(DriftMonitor.forArtifact(TEST_ARTIFACT, pipeline.manifest)).toBeNull();
  });

  it('exports the features and the PSI of each full window: stable for the reference texts, drifted for another script', async () => {
    const monitor = DriftMonitor.forArtifact(dir, pipeline.manifest, 4)!;
    await monitor.record(latin, await pipeline.run(latin, pipeline.tasks));
    const psi = async (feature: string) =>
      (await metricsRegistry.getSingleMetric('trident_drift_psi')!.get()).values.find((v) => v.labels.feature === feature)?.value;
    expect(await psi('non_latin_share')).toBe(0);
    expect(await psi('length_tokens')).toBe(0);
    await monitor.record(cyrillic, await pipeline.run(cyrillic, pipeline.tasks));
    expect(await psi('non_latin_share')).toBeGreaterThan(0.25);
    const text = await metricsRegistry.metrics();
    expect(text).toMatch(/trident_drift_text_tokens_count 8/);
    expect(text).toMatch(/trident_drift_non_latin_share_bucket\{le="0"\} 4/);
    expect(text).toMatch(/trident_drift_predictions_total\{task="sentiment",label="(positive|negative)"\}/);
    expect(text).toMatch(/trident_drift_windows_total 2/);
  });
});
