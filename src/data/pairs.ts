/**
 * Seeded pair and triplet samplers over labelled data, for siamese networks
 * (Bromley et al. 1994) trained with the contrastive loss (Chopra, Hadsell,
 * LeCun 2005) or the triplet loss (Schroff, Kalenichenko, Philbin 2015).
 */
import { Rng } from "./random";
import { checkInteger, checkNumberInRange, checkPositiveInteger } from "../validation/arguments";

/** Options of {@link samplePairs}. */
export interface PairOptions {
  /** Number of pairs. */
  count: number;
  /** Fraction of same-label pairs, in [0, 1]; exactly round(count * sameFraction) are; default 0.5. */
  sameFraction?: number;
}

/** Pairs of example indices and whether their labels agree. */
export interface PairSample {
  /** `[count]` index of the first example of each pair. */
  first: Int32Array;
  /** `[count]` index of the second example, never equal to `first[i]`. */
  second: Int32Array;
  /** `[count]` 1 where the two labels agree, else 0 (the `same` input of `contrastiveLoss`). */
  same: Float32Array;
}

/** Triplets of example indices. */
export interface TripletSample {
  /** `[count]` anchors. */
  anchor: Int32Array;
  /** `[count]` another example (never the anchor) with the anchor's label. */
  positive: Int32Array;
  /** `[count]` an example with a different label. */
  negative: Int32Array;
}

interface LabelIndex {
  /** Examples of each label. */
  members: Map<number, number[]>;
  /** Examples whose label has at least two examples: possible anchors of a same pair. */
  pairable: number[];
  n: number;
}

function indexLabels(fn: string, labels: ArrayLike<number>): LabelIndex {
  const n = labels.length;
  const members = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    checkInteger(fn, `labels[${i}]`, y);
    const list = members.get(y);
    if (list) list.push(i);
    else members.set(y, [i]);
  }
  const pairable: number[] = [];
  for (let i = 0; i < n; i++) if (members.get(labels[i])!.length >= 2) pairable.push(i);
  return { members, pairable, n };
}

/** Another example with the label of `i`, uniformly. */
function drawPositive(index: LabelIndex, labels: ArrayLike<number>, i: number, rng: Rng): number {
  const list = index.members.get(labels[i])!;
  // Draw among the other members: skip i's slot without a rejection loop.
  const k = rng.int(list.length - 1);
  const j = list[k];
  return j === i ? list[list.length - 1] : j;
}

/** An example with a label other than that of `i`, uniformly over all such examples. */
function drawNegative(index: LabelIndex, labels: ArrayLike<number>, i: number, rng: Rng): number {
  const own = labels[i];
  let k = rng.int(index.n - index.members.get(own)!.length);
  for (const [label, list] of index.members) {
    if (label === own) continue;
    if (k < list.length) return list[k];
    k -= list.length;
  }
  throw new Error("drawNegative: unreachable");
}

/**
 * Random pairs of examples: round(count * sameFraction) with equal labels,
 * the rest with different labels, in random order. The first example of a
 * pair is uniform over the eligible examples, the second uniform over the
 * examples with the same (or a different) label, never the first itself.
 *
 * Shapes: `labels` `[n]` integers -> `first`, `second`, `same` `[count]`.
 *
 * @example
 * const pairs = samplePairs(train.labels, { count: 256, sameFraction: 0.5 }, createRng(1));
 * const loss = contrastiveLoss(encode(gatherImages(train, pairs.first)), encode(gatherImages(train, pairs.second)),
 *   tf.tensor1d(pairs.same), { margin: 1 });
 */
export function samplePairs(labels: ArrayLike<number>, options: PairOptions, rng: Rng): PairSample {
  const fn = "samplePairs";
  checkPositiveInteger(fn, "options.count", options.count);
  const sameFraction = options.sameFraction ?? 0.5;
  checkNumberInRange(fn, "options.sameFraction", sameFraction, 0, 1);
  const index = indexLabels(fn, labels);
  const sameCount = Math.round(options.count * sameFraction);
  if (sameCount > 0 && index.pairable.length === 0) {
    throw new Error(`${fn}: labels must have a class with at least 2 examples for same pairs, got none`);
  }
  if (sameCount < options.count && index.members.size < 2) {
    throw new Error(`${fn}: labels must have at least 2 classes for different pairs, got ${index.members.size}`);
  }
  const isSame = new Uint8Array(options.count);
  isSame.fill(1, 0, sameCount);
  // Shuffle which slots are same pairs so batches cut from the front stay mixed.
  for (let i = options.count - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [isSame[i], isSame[j]] = [isSame[j], isSame[i]];
  }
  const first = new Int32Array(options.count);
  const second = new Int32Array(options.count);
  const same = new Float32Array(options.count);
  for (let p = 0; p < options.count; p++) {
    if (isSame[p]) {
      const i = index.pairable[rng.int(index.pairable.length)];
      first[p] = i;
      second[p] = drawPositive(index, labels, i, rng);
      same[p] = 1;
    } else {
      const i = rng.int(index.n);
      first[p] = i;
      second[p] = drawNegative(index, labels, i, rng);
    }
  }
  return { first, second, same };
}

/**
 * Random triplets: an anchor uniform over the examples whose label has at
 * least two examples, a positive uniform over the other examples with its
 * label, a negative uniform over the examples with another label.
 *
 * Shapes: `labels` `[n]` integers -> `anchor`, `positive`, `negative` `[count]`.
 *
 * @example
 * const t = sampleTriplets(train.labels, 128, createRng(2));
 */
export function sampleTriplets(labels: ArrayLike<number>, count: number, rng: Rng): TripletSample {
  const fn = "sampleTriplets";
  checkPositiveInteger(fn, "count", count);
  const index = indexLabels(fn, labels);
  if (index.pairable.length === 0) {
    throw new Error(`${fn}: labels must have a class with at least 2 examples, got none`);
  }
  if (index.members.size < 2) {
    throw new Error(`${fn}: labels must have at least 2 classes, got ${index.members.size}`);
  }
  const anchor = new Int32Array(count);
  const positive = new Int32Array(count);
  const negative = new Int32Array(count);
  for (let t = 0; t < count; t++) {
    const a = index.pairable[rng.int(index.pairable.length)];
    anchor[t] = a;
    positive[t] = drawPositive(index, labels, a, rng);
    negative[t] = drawNegative(index, labels, a, rng);
  }
  return { anchor, positive, negative };
}
