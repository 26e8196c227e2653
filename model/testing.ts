import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The committed tiny model (random weights, real tokenizer) that unit tests run on. */
export const TEST_ARTIFACT = path.join(__dirname, 'test-artifact');

/**
 * A temporary copy of the test artifact whose manifest carries this `quantization` record (files and
 * digests unchanged; the manifest has no digest of itself). The caller removes the folder.
 */
export function testArtifactWithQuantization(record: unknown): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trident-quant-'));
  cpSync(TEST_ARTIFACT, dir, { recursive: true });
  const file = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  manifest.quantization = record;
  writeFileSync(file, JSON.stringify(manifest));
  return dir;
}

/** Strings that break naive offset code: accents, emoji, CJK, combining marks, odd whitespace. */
export const ADVERSARIAL_TEXTS = [
  'José Müller from Zürich met Société Générale in Málaga.',
  'e\u0301cole and cafe\u0301 — combining marks',
  'My card 💳 was declined 😡😡 at the ATM 🤔 👩‍👩‍👧 family 🇫🇷 flag',
  '北京 is the capital of 中国, 東京 is in Japan. Samsung 삼성 is Korean.',
  '  Multiple   spaces,\ttabs\t\tand\nnew\n\nlines   around  Microsoft   and  Google.  ',
  '𝐁𝐨𝐥𝐝 math letters and 𝔉𝔯𝔞𝔨𝔱𝔲𝔯 and ǅemal ß STRASSE ﬁne',
  'zero\u200bwidth\u00a0nbsp\u2028line sep \ud83d lone surrogate',
  'Ünïcödé ÀÉÎÕÜ ÅNGSTRÖM Ωmega İstanbul',
];
