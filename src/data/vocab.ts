/**
 * A word vocabulary: the map between tokens and the integer ids that index an
 * embedding table.
 *
 * Out-of-vocabulary tokens are not dropped: they map to one `<unk>` id (0), so
 * an encoded sentence keeps its length and word positions, which context
 * windows (word2vec, GloVe) and autoregressive models rely on. Callers that
 * want them gone filter `id !== vocab.unkId` themselves.
 */
import { checkIntegerInRange, checkPositiveInteger } from "../validation/arguments";

/** A frozen vocabulary built by {@link buildVocab}. */
export interface Vocab {
  /** Number of ids, `<unk>` included. */
  readonly size: number;
  /** `[size]` the word of each id; `words[unkId]` is the unknown-word token. */
  readonly words: readonly string[];
  /**
   * `[size]` occurrences of each word in the tokens the vocabulary was built
   * from; `counts[unkId]` counts the occurrences of all words left out.
   */
  readonly counts: readonly number[];
  /** Tokens the vocabulary was built from (the sum of `counts`). */
  readonly tokenCount: number;
  /** Id of the unknown-word token: 0. */
  readonly unkId: number;
  /** Whether `word` has its own id. */
  has(word: string): boolean;
  /** Id of `word`, or `unkId` when it has none. */
  index(word: string): number;
  /** `[tokens.length]` ids of `tokens`, `unkId` for unknown words. */
  encode(tokens: Iterable<string>): Int32Array;
  /** `[ids.length]` words of `ids`; throws on an id outside `[0, size)`. */
  decode(ids: ArrayLike<number>): string[];
}

/** Options of {@link buildVocab}. */
export interface VocabOptions {
  /** Keep words seen at least this often; default 1. */
  minCount?: number;
  /** Largest vocabulary, `<unk>` included; the most frequent words are kept. Default: no limit. */
  maxSize?: number;
  /** The unknown-word token; default `"<unk>"`. It must not occur in `tokens`. */
  unkToken?: string;
}

/**
 * Counts `tokens` and assigns ids: 0 to the unknown-word token, then 1, 2, ...
 * to the kept words by decreasing count, ties in code-unit order of the word,
 * so the same tokens always give the same ids.
 *
 * Shapes: `words` and `counts` `[size]`.
 *
 * @example
 * const vocab = buildVocab(brownTokens(loadBrown(), { lowercase: true }), { minCount: 5 });
 * vocab.encode(["the", "qwxz"]); // Int32Array [1, 0]: "the" is the most frequent word, "qwxz" unknown
 */
export function buildVocab(tokens: Iterable<string>, options: VocabOptions = {}): Vocab {
  const minCount = options.minCount ?? 1;
  const unkToken = options.unkToken ?? "<unk>";
  checkPositiveInteger("buildVocab", "minCount", minCount);
  if (options.maxSize !== undefined && (!Number.isInteger(options.maxSize) || options.maxSize < 1)) {
    throw new Error(`buildVocab: maxSize must be a positive integer (it includes ${unkToken}), got ${options.maxSize}`);
  }
  const counts = new Map<string, number>();
  let tokenCount = 0;
  for (const token of tokens) {
    if (typeof token !== "string") {
      throw new Error(`buildVocab: tokens must be strings, got ${typeof token} at position ${tokenCount}`);
    }
    counts.set(token, (counts.get(token) ?? 0) + 1);
    tokenCount++;
  }
  if (counts.has(unkToken)) {
    throw new Error(
      `buildVocab: the unknown-word token "${unkToken}" occurs ${counts.get(unkToken)} times in tokens; ` +
        "pass another options.unkToken",
    );
  }
  const ranked = [...counts.entries()]
    .filter(([, c]) => c >= minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const kept = options.maxSize === undefined ? ranked : ranked.slice(0, options.maxSize - 1);
  const words = [unkToken, ...kept.map(([w]) => w)];
  const keptTotal = kept.reduce((sum, [, c]) => sum + c, 0);
  const wordCounts = [tokenCount - keptTotal, ...kept.map(([, c]) => c)];
  const ids = new Map<string, number>();
  words.forEach((w, i) => {
    if (i > 0) ids.set(w, i);
  });
  const unkId = 0;
  Object.freeze(words);
  Object.freeze(wordCounts);
  return Object.freeze({
    size: words.length,
    words,
    counts: wordCounts,
    tokenCount,
    unkId,
    has: (word: string) => ids.has(word),
    index: (word: string) => ids.get(word) ?? unkId,
    encode(input: Iterable<string>): Int32Array {
      const list = Array.isArray(input) ? (input as string[]) : [...input];
      const out = new Int32Array(list.length);
      for (let i = 0; i < list.length; i++) out[i] = ids.get(list[i]) ?? unkId;
      return out;
    },
    decode(input: ArrayLike<number>): string[] {
      const out: string[] = new Array(input.length);
      for (let i = 0; i < input.length; i++) {
        const id = input[i];
        checkIntegerInRange("Vocab.decode", `ids[${i}]`, id, 0, words.length, { maxExclusive: true });
        out[i] = words[id];
      }
      return out;
    },
  });
}
