import * as path from 'node:path';

/** The committed tiny model (random weights, real tokenizer) that unit tests run on. */
export const TEST_ARTIFACT = path.join(__dirname, 'test-artifact');

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
