/**
 * Unsupervised SimCSE (Gao, Yao, Chen 2021, "SimCSE: Simple Contrastive
 * Learning of Sentence Embeddings", EMNLP): a sentence is its own positive.
 * Each sentence of a batch goes through the same encoder twice; the only
 * difference between the two passes is the dropout mask, the "minimal data
 * augmentation". InfoNCE over the batch then pulls the two passes of a
 * sentence together and pushes the other sentences away (the paper's
 * section 3):
 *
 *   l_i = -log exp(cos(h_i, h_i') / tau) / sum_j exp(cos(h_i, h_j') / tau),
 *
 * with tau = 0.05 as in the paper. The paper's ablation (its Table 3) is
 * what this module's options give: the dropout rate (0, 0.1, larger) and
 * one mask shared by both passes, which leaves identical positives (no
 * alignment signal at all, only the push apart).
 *
 * The `views` option swaps the view generator, so one encoder and one
 * probe can compare them (the paper's Table 1 does this with crop, word
 * deletion, synonym replacement and others): "dropout" (default, the
 * above), "eda" (two EDA copies of each sentence, Wei & Zou 2019, see
 * `augment/text.ts`) or "cutoff" (two independent cutoff masks on the token
 * embeddings, Shen et al. 2020, see `models/transformer.ts`). The
 * transformer's own dropout still applies in every kind, so build it with
 * `dropout: 0` for EDA or cutoff instead of dropout, and with 0.1 for them
 * besides dropout.
 *
 * Supervised SimCSE replaces the dropout positive with an entailment
 * hypothesis from NLI data and uses contradictions as hard negatives; no
 * NLI corpus installs offline, so only the unsupervised form is here.
 */
import { tf } from "../../backend/tf";
import type { SentenceBatch } from "../../data/brown_sentences";
import { checkTokenRows, edaRows, type EdaOptions, type TokenRows } from "../../augment/text";
import { infoNCE } from "../../losses/info_nce";
import { l2NormalizeRows } from "../../losses/ops/similarity";
import { CUTOFF_KINDS, type CutoffKind, type Transformer } from "../../models/transformer";
import { deriveSeed } from "../../training/seeds";
import type { LossWithMetrics, StepContext } from "../../training/types";
import { checkMatrix, checkOptions, checkPositiveNumber, describe } from "../../validation/arguments";
import type { Method } from "../method";

/**
 * Where SimCSE's two views of a sentence come from:
 * - `{ kind: "dropout" }`: two dropout masks on the same words (the paper).
 * - `{ kind: "eda", eda, original? }`: two EDA copies drawn with different
 *   seeds (`eda.copies` is ignored: one copy per view); with
 *   `original: true` the first view is the sentence itself.
 * - `{ kind: "cutoff", cutoff: { kind, rate } }`: the same words under two
 *   independent cutoff masks of that kind and rate.
 */
export type SimcseViews =
  | { kind: "dropout" }
  | { kind: "eda"; eda: EdaOptions; original?: boolean }
  | { kind: "cutoff"; cutoff: { kind: CutoffKind; rate: number } };

/** Options of {@link createSimcse}. */
export interface SimcseOptions {
  /**
   * The encoder: a bidirectional transformer from `models.createTransformer`,
   * built with the dropout rate to train with (`dropout: 0.1`; 0 for the
   * no-dropout ablation). It stays the caller's.
   */
  transformer: Transformer;
  /** Temperature tau of the InfoNCE; default 0.05 (the paper). */
  temperature?: number;
  /** Both passes of a step use one dropout mask (the paper's "fixed 0.1" ablation); default false. Only with dropout views. */
  sharedMask?: boolean;
  /** The view generator; default `{ kind: "dropout" }`, the paper's. */
  views?: SimcseViews;
  /** Name for labels; default "SimCSE (p = rate)" with " shared mask" when shared. */
  name?: string;
}

/** SimCSE as a {@link Method}. */
export interface SimcseMethod extends Method<SentenceBatch> {
  /** The encoder being trained. */
  readonly transformer: Transformer;
  /** The InfoNCE temperature. */
  readonly temperature: number;
  /** Whether both passes share one dropout mask. */
  readonly sharedMask: boolean;
  /** The view generator. */
  readonly views: SimcseViews;
  loss(batch: SentenceBatch, ctx: StepContext): LossWithMetrics;
}

/**
 * SimCSE's loss: InfoNCE of the first pass against the second over the
 * batch, on cosine similarities divided by `temperature` (one direction,
 * as in the paper):
 *
 *   L = 1/B sum_i [ log sum_j exp(cos(h1_i, h2_j) / tau) - cos(h1_i, h2_i) / tau ].
 *
 * It is `losses.infoNCE` on L2-normalised rows.
 *
 * Shapes: `h1`, `h2` `[B, D]` float32 (row i of each: one sentence) -> scalar.
 *
 * @example
 * const h1 = transformer.pooled(tokens, lengths, { dropout: { seed: 1 } });
 * const h2 = transformer.pooled(tokens, lengths, { dropout: { seed: 2 } });
 * const loss = simcseLoss(h1, h2, 0.05);
 */
export function simcseLoss(h1: tf.Tensor2D, h2: tf.Tensor2D, temperature: number): tf.Scalar {
  const fn = "simcseLoss";
  checkMatrix(fn, "h1", h1, undefined, undefined, "float32");
  checkMatrix(fn, "h2", h2, h1.shape[0], h1.shape[1], "float32");
  if (h1.shape[0] < 2 || h1.shape[1] < 1) throw new Error(`${fn}: h1 must have at least 2 rows (one positive, one negative) and a column, got ${describe(h1)}`);
  checkPositiveNumber(fn, "temperature", temperature);
  return tf.tidy(() => infoNCE(l2NormalizeRows(h1), l2NormalizeRows(h2), { temperature }));
}

/** Share of rows of h1 whose most cosine-similar row of h2 is their own second pass. */
function positiveAccuracy(h1: tf.Tensor2D, h2: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const sims = tf.matMul(l2NormalizeRows(h1), tf.transpose(l2NormalizeRows(h2)));
    const own = tf.range(0, h1.shape[0], 1, "int32");
    return tf.mean(tf.cast(tf.equal(tf.argMax(sims, 1), own), "float32")) as tf.Scalar;
  });
}

/**
 * The two passes of a batch. Identical passes (one shared mask, or no
 * dropout) are one pass used twice: the same function of the same input
 * gives the same output, and its gradient is the same as through two
 * copies. Different masks: the batch stacked on itself, `[2B, time]`,
 * through one pass, so rows i and B + i get different rows of one seeded
 * draw; half the calls of two passes.
 */
function twoPasses(transformer: Transformer, batch: SentenceBatch, seed: number, sharedMask: boolean): [tf.Tensor2D, tf.Tensor2D] {
  if (sharedMask || transformer.dropout === 0) {
    const h = transformer.pooled(batch.tokens, batch.lengths, { dropout: { seed } });
    return [h, h];
  }
  const b = batch.tokens.shape[0];
  const stacked = tf.concat([batch.tokens, batch.tokens], 0) as tf.Tensor2D;
  const lengths = Int32Array.from({ length: 2 * b }, (_, i) => batch.lengths[i % b]);
  const h = transformer.pooled(stacked, lengths, { dropout: { seed } });
  return tf.split(h, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
}

/** Two padded views stacked into one `[2B, time]` batch (each padded to the wider). */
function stackRows(first: TokenRows, second: TokenRows, padId: number): TokenRows {
  const b = first.lengths.length;
  const time = Math.max(first.time, second.time);
  const ids = new Int32Array(2 * b * time).fill(padId);
  [first, second].forEach((view, v) => {
    for (let r = 0; r < b; r++) ids.set(view.ids.subarray(r * view.time, r * view.time + view.lengths[r]), (v * b + r) * time);
  });
  const lengths = new Int32Array(2 * b);
  lengths.set(first.lengths, 0);
  lengths.set(second.lengths, b);
  return { ids, lengths, time };
}

/**
 * The two passes of a batch under EDA or cutoff views: both views stacked
 * into one `[2B, time]` pass, rows i and B + i one sentence's two views.
 * Dropout (the transformer's rate) and cutoff masks are drawn per row from
 * one seed each, so the two rows of a sentence get different masks.
 */
function augmentedPasses(transformer: Transformer, batch: SentenceBatch, views: SimcseViews, padId: number, stepSeed: number): [tf.Tensor2D, tf.Tensor2D] {
  const dropout = { seed: deriveSeed(stepSeed, 1) };
  if (views.kind === "cutoff") {
    const b = batch.tokens.shape[0];
    const lengths = Int32Array.from({ length: 2 * b }, (_, i) => batch.lengths[i % b]);
    return tf.tidy(() => {
      const h = transformer.pooled(tf.concat([batch.tokens, batch.tokens], 0) as tf.Tensor2D, lengths, { dropout, cutoff: { ...views.cutoff, seed: deriveSeed(stepSeed, 2) } });
      return tf.split(h, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
    });
  }
  if (views.kind !== "eda") throw new Error(`SimCSE.loss: views.kind must be "eda" or "cutoff" here, got ${describe(views.kind)}`);
  const rows: TokenRows = { ids: batch.tokens.dataSync() as Int32Array, lengths: batch.lengths, time: batch.tokens.shape[1] };
  checkTokenRows("SimCSE.loss", rows, padId);
  const target = (k: number) => ({ maxLength: transformer.maxLength, seed: deriveSeed(stepSeed, k) });
  const first = views.original === true ? rows : edaRows(rows, views.eda, target(2));
  const stacked = stackRows(first, edaRows(rows, views.eda, target(3)), padId);
  return tf.tidy(() => {
    const h = transformer.pooled(tf.tensor2d(stacked.ids, [stacked.lengths.length, stacked.time], "int32"), stacked.lengths, { dropout });
    return tf.split(h, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
  });
}

/** Checks `views` against the transformer and names it for labels. */
function checkViews(fn: string, views: unknown, transformer: Transformer, sharedMask: boolean): string {
  const arg = "options.views";
  if (views === null || typeof views !== "object") throw new Error(`${fn}: ${arg} must be an object {kind, ...}, got ${describe(views)}`);
  const v = views as SimcseViews;
  const p = `p = ${transformer.dropout}`;
  if (v.kind !== "dropout" && sharedMask) throw new Error(`${fn}: options.sharedMask must be false with ${arg}.kind "${v.kind}" (it is an ablation of dropout views), got true`);
  if (v.kind === "dropout") return p;
  if (v.kind === "cutoff") {
    const c = v.cutoff as { kind: unknown; rate: unknown };
    if (c === null || typeof c !== "object") throw new Error(`${fn}: ${arg}.cutoff must be an object {kind, rate}, got ${describe(c)}`);
    if (!CUTOFF_KINDS.includes(c.kind as CutoffKind)) throw new Error(`${fn}: ${arg}.cutoff.kind must be one of "token", "feature", "span", got ${describe(c.kind)}`);
    if (typeof c.rate !== "number" || !(c.rate > 0 && c.rate < 1)) throw new Error(`${fn}: ${arg}.cutoff.rate must be a number in (0, 1), got ${describe(c.rate)}`);
    return `${c.kind} cutoff ${c.rate}, ${p}`;
  }
  if (v.kind === "eda") {
    const e = v.eda;
    if (e === null || typeof e !== "object" || typeof e.synonyms?.of !== "function") throw new Error(`${fn}: ${arg}.eda must be EDA options {synonyms, alpha, ...}, got ${describe(e)}`);
    if (e.synonyms.size !== transformer.vocabSize) throw new Error(`${fn}: ${arg}.eda.synonyms must cover the transformer's ${transformer.vocabSize} ids, got a table of ${e.synonyms.size}`);
    if (typeof e.alpha !== "number" || !(e.alpha > 0 && e.alpha <= 1)) throw new Error(`${fn}: ${arg}.eda.alpha must be a number in (0, 1], got ${describe(e.alpha)}`);
    if (v.original !== undefined && typeof v.original !== "boolean") throw new Error(`${fn}: ${arg}.original must be true or false, got ${describe(v.original)}`);
    return `EDA alpha = ${e.alpha}${v.original ? " vs original" : ""}, ${p}`;
  }
  throw new Error(`${fn}: ${arg}.kind must be one of "dropout", "eda", "cutoff", got ${describe((v as { kind: unknown }).kind)}`);
}

/**
 * Unsupervised SimCSE for `training.train`: each step encodes the batch
 * twice with `transformer.pooled` (the mean of the final hidden states
 * over each sentence's words: no extra token or head; the paper found
 * the pooling choice matters little), with dropout masks seeded by a hash of the step's
 * `ctx.seed` (one mask for both passes when `sharedMask`), and minimises
 * {@link simcseLoss}. With EDA or cutoff `views`, the two views (EDA
 * copies, or cutoff masks, also seeded from `ctx.seed`) go through one
 * stacked pass. Metric `accuracy`: the share of sentences whose
 * nearest second pass is their own.
 *
 * Shapes: `batch.tokens` `[B, time]` int32, `batch.lengths` `[B]` -> scalar loss.
 *
 * @example
 * const encoder = models.createTransformer({ vocabSize: vocab.size, maxLength: 32, dim: 64, heads: 4, layers: 2, causal: false, dropout: 0.1, seed: 1 });
 * const simcse = createSimcse({ transformer: encoder });
 * await training.train({ ...simcse, optimizer: training.adam(1e-3), batches: data.sentenceBatches(split.train, vocab, { batchSize: 64, maxLength: 32 }), steps: 200 });
 * simcse.dispose(); // nothing of its own; `encoder` stays for the probes
 * // Other views on a dropout-free encoder: EDA copies, or span cutoff.
 * const table = augment.vocabSynonyms(vocab, data.loadWordNetSynsets());
 * const edaSimcse = createSimcse({ transformer: plainEncoder, views: { kind: "eda", eda: { synonyms: table, alpha: 0.1 } } });
 * const cutSimcse = createSimcse({ transformer: plainEncoder, views: { kind: "cutoff", cutoff: { kind: "span", rate: 0.2 } } });
 */
export function createSimcse(options: SimcseOptions): SimcseMethod {
  const fn = "createSimcse";
  checkOptions(fn, options, "{transformer, temperature?, sharedMask?, views?, name?}");
  const unknown = Object.keys(options).filter((k) => !["transformer", "temperature", "sharedMask", "views", "name"].includes(k));
  if (unknown.length > 0) throw new Error(`${fn}: options must hold only transformer, temperature, sharedMask, views, name, got ${unknown.join(", ")}`);
  const { transformer, temperature = 0.05, sharedMask = false, views = { kind: "dropout" } } = options;
  if (transformer === null || typeof transformer !== "object" || typeof transformer.pooled !== "function" || !Array.isArray(transformer.trainable)) {
    throw new Error(`${fn}: options.transformer must be a Transformer from models.createTransformer, got ${describe(transformer)}`);
  }
  if (transformer.causal) throw new Error(`${fn}: options.transformer must be bidirectional (causal: false), got causal: true`);
  checkPositiveNumber(fn, "options.temperature", temperature);
  if (typeof sharedMask !== "boolean") throw new Error(`${fn}: options.sharedMask must be true or false, got ${describe(sharedMask)}`);
  const label = checkViews(fn, views, transformer, sharedMask);
  // The last id is <pad> in a sentence vocabulary (data.sentenceVocab); EDA views are padded with it.
  const padId = views.kind === "eda" ? views.eda.synonyms.padId : transformer.vocabSize - 1;
  const name = options.name ?? `SimCSE (${label})${sharedMask ? " shared mask" : ""}`;
  if (typeof name !== "string" || name.length === 0) throw new Error(`${fn}: options.name must be a non-empty string, got ${describe(name)}`);

  return {
    name,
    transformer,
    temperature,
    sharedMask,
    views,
    trainable: transformer.trainable,
    loss(batch: SentenceBatch, ctx: StepContext): LossWithMetrics {
      const where = "SimCSE.loss";
      if (batch === null || typeof batch !== "object") throw new Error(`${where}: batch must be {tokens, lengths}, got ${describe(batch)}`);
      checkMatrix(where, "batch.tokens", batch.tokens, undefined, undefined, "int32");
      if (!(batch.lengths instanceof Int32Array) || batch.lengths.length !== batch.tokens.shape[0]) {
        throw new Error(`${where}: batch.lengths must be an Int32Array of ${batch.tokens.shape[0]} lengths (one per row of batch.tokens), got ${describe(batch.lengths)}`);
      }
      const [h1, h2] = views.kind === "dropout" ? twoPasses(transformer, batch, deriveSeed(ctx.seed, 1), sharedMask) : augmentedPasses(transformer, batch, views, padId, ctx.seed);
      return { loss: simcseLoss(h1, h2, temperature), metrics: { accuracy: positiveAccuracy(h1, h2) } };
    },
    itemsPerBatch: (batch) => batch.tokens.shape[0],
    dispose() {
      // Nothing of its own: SimCSE adds no head; the transformer is the caller's.
    },
  };
}
