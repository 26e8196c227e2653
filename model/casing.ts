const UPPER = /\p{Uppercase}/u;
const LOWER = /\p{Lowercase}/u;

/**
 * Casing classes of a token's original characters (model/README.md "Casing"):
 * 0 = special/padding or no cased letter, 1 = all cased letters lower, 2 = first cased letter upper
 * and not all upper (a single upper-case letter is 2), 3 = all upper with two or more cased letters,
 * 4 = anything else (first lower, some upper). Pure.
 */
export function caseClass(original: string): number {
  let upper = 0;
  let lower = 0;
  let firstUpper: boolean | null = null;
  for (const ch of original) {
    // A cased letter has the Unicode Uppercase or Lowercase property (Python ch.isupper()/islower()).
    const isUpper = UPPER.test(ch);
    const isLower = !isUpper && LOWER.test(ch);
    if (!isUpper && !isLower) continue;
    if (firstUpper === null) firstUpper = isUpper;
    if (isUpper) upper++;
    else lower++;
  }
  if (firstUpper === null) return 0;
  if (upper === 0) return 1;
  if (lower === 0) return upper >= 2 ? 3 : 2;
  return firstUpper ? 2 : 4;
}
