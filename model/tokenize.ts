import { Tokenizer } from 'tokenizers';
import { ModelArtifactError } from '../common/errors';
import { codePointToUtf16Map, toUtf16Offsets } from './offsets';
import { caseClass } from './casing';
import type { SpecialIds } from './windows';

/** A text tokenised once, without special tokens and without truncation. */
export interface TokenizedText {
  text: string;
  ids: Int32Array;
  /** Flat `[start, end, …]` per token, UTF-16 code units into `text` (JavaScript string indices). */
  offsets: Int32Array;
  /** Word index per token; -1 when the token belongs to no word. */
  wordIds: Int32Array;
}

/**
 * The artifact's Hugging Face tokenizer with padding and truncation turned off (the runtime windows
 * texts itself, model/README.md), and offsets converted from code points to UTF-16.
 */
export class TextTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    readonly specials: SpecialIds,
    readonly file: string,
  ) {}

  /** Loads `tokenizer.json`. Blocks while it parses the file. Throws ModelArtifactError naming the file. */
  static fromFile(file: string): TextTokenizer {
    let tokenizer: Tokenizer;
    try {
      tokenizer = Tokenizer.fromFile(file);
    } catch (cause) {
      throw new ModelArtifactError(file, `cannot load tokenizer: ${String(cause)}`, { cause });
    }
    // The base model's tokenizer.json pads and truncates to 128; either would corrupt windows.
    tokenizer.disablePadding();
    tokenizer.disableTruncation();
    const cls = tokenizer.tokenToId('[CLS]');
    const sep = tokenizer.tokenToId('[SEP]');
    if (cls === null || sep === null) throw new ModelArtifactError(file, 'tokenizer has no [CLS]/[SEP] tokens');
    return new TextTokenizer(tokenizer, { cls, sep, pad: tokenizer.tokenToId('[PAD]') ?? 0 }, file);
  }

  /** The id of a vocabulary token (e.g. `[UNK]`), or null when the vocabulary has none. */
  tokenId(token: string): number | null {
    return this.tokenizer.tokenToId(token) ?? null;
  }

  /** Tokenises a batch of texts (runs on libuv's thread pool; does not block the event loop). */
  async tokenizeBatch(texts: readonly string[]): Promise<TokenizedText[]> {
    if (texts.length === 0) return [];
    const encodings = await this.tokenizer.encodeBatch([...texts], { addSpecialTokens: false });
    return encodings.map((encoding, i) => {
      const text = texts[i];
      const ids = Int32Array.from(encoding.getIds());
      const offsets = new Int32Array(ids.length * 2);
      encoding.getOffsets().forEach(([s, e], t) => {
        offsets[2 * t] = s;
        offsets[2 * t + 1] = e;
      });
      toUtf16Offsets(offsets, codePointToUtf16Map(text));
      const wordIds = Int32Array.from(encoding.getWordIds(), (w) => (w === null || w === undefined ? -1 : w));
      return { text, ids, offsets, wordIds };
    });
  }

  /** Tokenises one text; see tokenizeBatch. */
  async tokenize(text: string): Promise<TokenizedText> {
    return (await this.tokenizeBatch([text]))[0];
  }
}

/** Casing class per content token, from the original characters under its offsets (casing.ts). Pure. */
export function caseIdsOf(tokens: TokenizedText): Int32Array {
  const out = new Int32Array(tokens.ids.length);
  for (let t = 0; t < out.length; t++) out[t] = caseClass(tokens.text.slice(tokens.offsets[2 * t], tokens.offsets[2 * t + 1]));
  return out;
}
