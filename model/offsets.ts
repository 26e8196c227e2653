/**
 * The `tokenizers` library reports offsets in Unicode code points (checked on emoji and CJK: "😀"
 * is one unit, not two). JavaScript strings index UTF-16 code units. This converts exactly.
 */

/** `map[cp]` = UTF-16 index of code point `cp`; `map[codePointCount]` = `text.length`. Pure. */
export function codePointToUtf16Map(text: string): Int32Array {
  const map = new Int32Array(text.length + 1);
  let cp = 0;
  let i = 0;
  while (i < text.length) {
    map[cp++] = i;
    const c = text.charCodeAt(i);
    // A high surrogate followed by a low one is a single code point; a lone surrogate counts as one.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      i += d >= 0xdc00 && d <= 0xdfff ? 2 : 1;
    } else {
      i += 1;
    }
  }
  map[cp] = text.length;
  return map.subarray(0, cp + 1);
}

/**
 * Converts code-point offsets `[start, end)` to UTF-16 offsets, in place on a flat
 * `[s0, e0, s1, e1, …]` array. Throws RangeError on an offset past the end of the text (a tokenizer
 * that reports another unit would otherwise corrupt spans silently).
 */
export function toUtf16Offsets(flat: Int32Array, map: Int32Array): Int32Array {
  for (let i = 0; i < flat.length; i++) {
    const cp = flat[i];
    if (cp < 0 || cp >= map.length) throw new RangeError(`offset ${cp} outside text of ${map.length - 1} code points`);
    flat[i] = map[cp];
  }
  return flat;
}
