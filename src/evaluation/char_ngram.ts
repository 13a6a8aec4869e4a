/**
 * Character n-gram baselines for a character language model: the unigram
 * (each character by its frequency, no context) and the bigram (each
 * character given the one before it), counted from training documents with
 * add-k smoothing (Jurafsky & Martin, "Speech and Language Processing",
 * ch. 3). A GPT-style model (Radford et al. 2018, 2019) that reads up to its
 * whole context has to beat both in bits per character on held-out text.
 *
 * Plain float64 TypeScript: no tensors, so nothing to dispose.
 *
 * Which ids are scored: every id of a document but its first, which is only
 * context (the `<bos>` of `encodeChars(vocab, text, { bos: true })`, so every
 * real character is scored). `evaluateCausalLm` scores exactly the same ids,
 * so the numbers compare.
 */
import {
  checkIntegerInRange,
  checkOneOf,
  checkOptions,
  checkPositiveInteger,
  checkPositiveNumber,
  describe,
} from "../validation/arguments";

/** Options of {@link fitCharNgram}. */
export interface CharNgramOptions {
  /** 1: unigram, p(c); 2: bigram, p(c | previous id). */
  order: 1 | 2;
  /** Number of ids; documents hold ids in [0, vocabSize). */
  vocabSize: number;
  /**
   * Pseudo-count k added to every count; default 0.5 (the "expected likelihood
   * estimate" of Jeffreys and Perks, between add-one, which flattens a bigram's
   * rare contexts, and no smoothing, which gives unseen pairs probability 0).
   * On Brown's 5.5 million training characters any k in [0.01, 1] gives the
   * same held-out bits to 0.001; k matters on small corpora.
   */
  addK?: number;
}

/** A fitted character n-gram model from {@link fitCharNgram}. */
export interface CharNgram {
  /** 1 (unigram) or 2 (bigram). */
  readonly order: 1 | 2;
  /** Number of ids. */
  readonly vocabSize: number;
  /** The pseudo-count k. */
  readonly addK: number;
  /** Ids counted (every id of each training document but its first). */
  readonly count: number;
  /** `[vocabSize]` p(c) = (n(c) + k) / (count + k V). */
  readonly unigram: Float64Array;
  /**
   * Order 2 only: `[vocabSize * vocabSize]` row-major, row a = p(. | a) =
   * (n(a, c) + k) / (n(a) + k V), or the unigram row when a was never followed
   * by anything in training (backing off instead of a flat row). Order 1: undefined.
   */
  readonly bigram: Float64Array | undefined;
}

/** Checks `docs` is an array of Int32Arrays of ids in [0, vocabSize). */
function checkDocs(fn: string, arg: string, docs: unknown, vocabSize: number): asserts docs is Int32Array[] {
  if (!Array.isArray(docs)) throw new Error(`${fn}: ${arg} must be an array of Int32Arrays, got ${describe(docs)}`);
  docs.forEach((doc, d) => {
    if (!(doc instanceof Int32Array)) throw new Error(`${fn}: ${arg}[${d}] must be an Int32Array, got ${describe(doc)}`);
    for (let i = 0; i < doc.length; i++) {
      if (doc[i] < 0 || doc[i] >= vocabSize) checkIntegerInRange(fn, `${arg}[${d}][${i}]`, doc[i], 0, vocabSize, { maxExclusive: true });
    }
  });
}

/**
 * Counts a unigram or bigram character model from encoded documents, with
 * add-k smoothing. A bigram pair never crosses a document boundary: the
 * pairs are (doc[i - 1], doc[i]) for i >= 1 within each document, and the
 * unigram counts the same targets doc[i], i >= 1 (a document's first id, its
 * `<bos>`, is context and never predicted). A previous id never seen in
 * training backs off to the unigram.
 *
 * Shapes: `trainDocs` `[characters]` int32 each -> `unigram` `[V]`, `bigram` `[V * V]`.
 *
 * @example
 * const docs = brownCharTexts(loadBrown()).map((t) => encodeChars(vocab, t, { bos: true }));
 * const { train, heldOut } = splitDocuments(docs, { heldOut: 0.1, seed: 1 });
 * const bigram = fitCharNgram(train, { order: 2, vocabSize: vocab.size }); // addK 0.5
 * ngramBitsPerChar(bigram, heldOut); // 3.46 on Brown (vocab of minCount 5, 50 held-out documents)
 */
export function fitCharNgram(trainDocs: Int32Array[], options: CharNgramOptions): CharNgram {
  const fn = "fitCharNgram";
  checkOptions(fn, options, "{order, vocabSize, addK?}");
  const { order, vocabSize, addK = 0.5 } = options;
  checkOneOf(fn, "options.order", order, [1, 2]);
  checkPositiveInteger(fn, "options.vocabSize", vocabSize);
  checkPositiveNumber(fn, "options.addK", addK);
  checkDocs(fn, "trainDocs", trainDocs, vocabSize);
  const v = vocabSize;
  const unigramCounts = new Float64Array(v);
  const pairCounts = order === 2 ? new Float64Array(v * v) : undefined;
  let count = 0;
  for (const doc of trainDocs) {
    for (let i = 1; i < doc.length; i++) {
      unigramCounts[doc[i]]++;
      if (pairCounts) pairCounts[doc[i - 1] * v + doc[i]]++;
      count++;
    }
  }
  if (count === 0) throw new Error(`${fn}: trainDocs must hold at least one document of 2 or more ids, got ${trainDocs.length} documents and no id to count`);
  const unigram = unigramCounts.map((n) => (n + addK) / (count + addK * v));
  let bigram: Float64Array | undefined;
  if (pairCounts) {
    bigram = new Float64Array(v * v);
    for (let a = 0; a < v; a++) {
      const row = pairCounts.subarray(a * v, (a + 1) * v);
      const total = row.reduce((s, n) => s + n, 0);
      for (let c = 0; c < v; c++) bigram[a * v + c] = total === 0 ? unigram[c] : (row[c] + addK) / (total + addK * v);
    }
  }
  return Object.freeze({ order, vocabSize, addK, count, unigram, bigram });
}

function checkModel(fn: string, model: unknown): asserts model is CharNgram {
  const m = model as CharNgram;
  if (m === null || typeof m !== "object" || !(m.unigram instanceof Float64Array) || (m.order === 2 && !(m.bigram instanceof Float64Array))) {
    throw new Error(`${fn}: model must be a CharNgram from fitCharNgram, got ${describe(model)}`);
  }
}

/**
 * The model's next-id distribution after `previous`: the bigram's row of
 * `previous` (order 2), or the unigram (order 1, where `previous` is ignored).
 * A copy: changing it leaves the model as it was.
 *
 * Shapes: -> `[vocabSize]`, summing to 1.
 *
 * @example
 * const p = ngramDistribution(bigram, vocab.ids.get("q")!); // p[vocab.ids.get("u")!] is large
 */
export function ngramDistribution(model: CharNgram, previous: number): Float64Array {
  const fn = "ngramDistribution";
  checkModel(fn, model);
  checkIntegerInRange(fn, "previous", previous, 0, model.vocabSize, { maxExclusive: true });
  const v = model.vocabSize;
  return model.order === 1 ? model.unigram.slice() : model.bigram!.slice(previous * v, (previous + 1) * v);
}

/**
 * Bits per character of held-out documents under an n-gram model:
 * -(1 / N) sum log2 p(doc[i] | doc[i - 1]) over every id but each document's
 * first (N of them), the same ids `evaluateCausalLm` scores.
 *
 * Shapes: `heldOutDocs` `[characters]` int32 each -> a number (bits).
 *
 * @example
 * const unigram = fitCharNgram(train, { order: 1, vocabSize: vocab.size });
 * ngramBitsPerChar(unigram, heldOut); // 4.45 on Brown
 */
export function ngramBitsPerChar(model: CharNgram, heldOutDocs: Int32Array[]): number {
  const fn = "ngramBitsPerChar";
  checkModel(fn, model);
  checkDocs(fn, "heldOutDocs", heldOutDocs, model.vocabSize);
  const v = model.vocabSize;
  let bits = 0;
  let count = 0;
  for (const doc of heldOutDocs) {
    for (let i = 1; i < doc.length; i++) {
      const p = model.order === 1 ? model.unigram[doc[i]] : model.bigram![doc[i - 1] * v + doc[i]];
      bits -= Math.log2(p);
      count++;
    }
  }
  if (count === 0) throw new Error(`${fn}: heldOutDocs must hold at least one document of 2 or more ids, got ${heldOutDocs.length} documents and no id to score`);
  return bits / count;
}
