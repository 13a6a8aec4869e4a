/**
 * Class-balanced batches ("P x K" sampling): P classes, K examples of each,
 * the batch layout metric learning uses (Hermans, Beyer, Leibe 2017) so that
 * every anchor has positives and negatives in its batch, and N-pair batches
 * (Sohn 2016) have one pair per class.
 */
import { Rng } from "./random";
import { checkPositiveInteger } from "../validation/arguments";

/** Options of {@link classBalancedBatch}. */
export interface ClassBalancedOptions {
  /** P, the classes in a batch; default all classes present. */
  classes?: number;
  /** K, the examples of each class; default 2. */
  perClass: number;
}

/**
 * Draws one batch of `P * K` example indices: P distinct classes (drawn
 * without replacement), K distinct examples of each (without replacement
 * within the class). Indices are laid out class by class: rows
 * `[c * K, (c + 1) * K)` share a label.
 *
 * Shapes: `labels` `[n]` -> `[P * K]` indices into `labels`.
 *
 * @example
 * const idx = classBalancedBatch(mnist.train.labels, { classes: 10, perClass: 8 }, ctx.rng);
 * const { x, y } = data.gatherBatch(mnist.train, idx); // y = [c0 x8, c1 x8, ...]
 */
export function classBalancedBatch(labels: ArrayLike<number>, options: ClassBalancedOptions, rng: Rng): Int32Array {
  const fn = "classBalancedBatch";
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0) throw new Error(`${fn}: labels must hold non-negative integers, got ${y} at index ${i}`);
    let members = byClass.get(y);
    if (!members) byClass.set(y, (members = []));
    members.push(i);
  }
  const { perClass } = options;
  checkPositiveInteger(fn, "options.perClass", perClass);
  const eligible = [...byClass.keys()].filter((c) => byClass.get(c)!.length >= perClass).sort((a, b) => a - b);
  const classes = options.classes ?? eligible.length;
  if (!Number.isInteger(classes) || classes < 1 || classes > eligible.length) {
    throw new Error(
      `${fn}: options.classes must be an integer in [1, ${eligible.length}] (classes with at least ${perClass} examples), got ${classes}`,
    );
  }
  const chosen = rng.permutation(eligible.length).slice(0, classes);
  const out = new Int32Array(classes * perClass);
  chosen.forEach((c, slot) => {
    const members = byClass.get(eligible[c])!;
    const order = rng.permutation(members.length);
    for (let k = 0; k < perClass; k++) out[slot * perClass + k] = members[order[k]];
  });
  return out;
}

/** What {@link classBlockPairs} returns. */
export interface ClassBlockPairs {
  /** `[P * K/2]` row indices of the anchors, in groups: group g holds one anchor of each class. */
  anchors: Int32Array;
  /** `[P * K/2]` row indices of their positives (same class, another example). */
  positives: Int32Array;
}

/**
 * Pairs up the rows of a class-blocked batch (as {@link classBalancedBatch}
 * lays it out: `classes` blocks of `perClass` rows): in each class, example
 * `g` is the anchor of example `g + K/2`. Pairs are ordered in `K/2` groups of
 * `P` pairs, one per class, so that each group is an N-pair batch (Sohn 2016)
 * and, for InfoNCE-style losses, row `i`'s positive is row `i`.
 *
 * Shapes: -> `anchors`, `positives` `[classes * perClass / 2]`.
 *
 * @example
 * const { anchors, positives } = classBlockPairs(10, 8); // 40 pairs in 4 groups of 10
 * const loss = losses.nPairLoss(tf.gather(z, anchors.slice(0, 10)), tf.gather(z, positives.slice(0, 10)));
 */
export function classBlockPairs(classes: number, perClass: number): ClassBlockPairs {
  const fn = "classBlockPairs";
  checkPositiveInteger(fn, "classes", classes);
  if (!Number.isInteger(perClass) || perClass < 2 || perClass % 2 !== 0) {
    throw new Error(`${fn}: perClass must be an even integer >= 2, got ${perClass}`);
  }
  const half = perClass / 2;
  const anchors = new Int32Array(classes * half);
  const positives = new Int32Array(classes * half);
  for (let g = 0; g < half; g++) {
    for (let c = 0; c < classes; c++) {
      anchors[g * classes + c] = c * perClass + g;
      positives[g * classes + c] = c * perClass + half + g;
    }
  }
  return { anchors, positives };
}
