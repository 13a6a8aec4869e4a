/**
 * How a joint image-text embedding (CLIP, Radford et al. 2021) is judged
 * without training anything more: zero-shot classification, where each
 * class is the embedding of prompts that name it, and cross-modal
 * retrieval Recall@K, images finding their captions and captions their
 * images.
 */
import { tf } from "../backend/tf";
import { l2NormalizeRows } from "../losses/ops/similarity";
import { Labels, readLabels, scorePredictions } from "./labels";
import { checkMatrix, checkRank, describe } from "../validation/arguments";

/**
 * The class embeddings of a prompt ensemble (the paper's section 3.1.4):
 * each prompt embedding is L2-normalised, the prompts of a class are
 * averaged, and the mean is normalised again. With one prompt per class
 * this is that prompt's unit embedding. Ensembling over templates with
 * different numbers of prompts each is two calls: one per template, then
 * one over the stacked template embeddings, so every template weighs the same.
 *
 * Shapes: `promptEmbeddings` `[classes, prompts, dim]` float32 -> `[classes, dim]` unit rows.
 *
 * @example
 * const perPrompt = tf.reshape(clip.embedTexts(tokenizer.encode(prompts)), [10, promptsPerClass, 32]);
 * const classes = promptEnsemble(perPrompt); // [10, 32]
 */
export function promptEnsemble(promptEmbeddings: tf.Tensor3D): tf.Tensor2D {
  const fn = "promptEnsemble";
  checkRank(fn, "promptEmbeddings", promptEmbeddings, 3, "float32");
  const [classes, prompts, dim] = promptEmbeddings.shape;
  if (classes < 1 || prompts < 1 || dim < 1) throw new Error(`${fn}: promptEmbeddings must be [classes, prompts, dim] with every size >= 1, got ${describe(promptEmbeddings)}`);
  return tf.tidy(() => {
    const unit = tf.reshape(l2NormalizeRows(tf.reshape(promptEmbeddings, [classes * prompts, dim]) as tf.Tensor2D), [classes, prompts, dim]);
    return l2NormalizeRows(tf.mean(unit, 1) as tf.Tensor2D);
  });
}

/** What {@link zeroShotClassify} returns. */
export interface ZeroShotResult {
  /** Share of images whose most similar class embedding is their label's. */
  accuracy: number;
  /** Accuracy on the images of each class (NaN for a class with none). */
  perClassAccuracy: number[];
  /** `[n]` the predicted class of each image. */
  predictions: Int32Array;
}

/**
 * Zero-shot classification: each image is given the class whose embedding
 * is most cosine-similar to its own (ties to the lower class id).
 *
 * Shapes: `imageEmbeddings` `[n, dim]`, `classEmbeddings` `[classes, dim]`
 * (row c is class c), `labels` `[n]` in [0, classes).
 *
 * @example
 * const { accuracy } = zeroShotClassify(clip.embedImages(testX), promptEnsemble(perPrompt), testY);
 */
export function zeroShotClassify(imageEmbeddings: tf.Tensor2D, classEmbeddings: tf.Tensor2D, labels: Labels): ZeroShotResult {
  const fn = "zeroShotClassify";
  checkMatrix(fn, "imageEmbeddings", imageEmbeddings, undefined, undefined, "float32");
  const [n, dim] = imageEmbeddings.shape;
  if (n < 1) throw new Error(`${fn}: imageEmbeddings must have at least one row, got ${describe(imageEmbeddings)}`);
  checkMatrix(fn, "classEmbeddings", classEmbeddings, undefined, dim, "float32");
  const classes = classEmbeddings.shape[0];
  if (classes < 2) throw new Error(`${fn}: classEmbeddings must have at least 2 rows (classes), got ${describe(classEmbeddings)}`);
  const truth = readLabels(labels, n, fn, "labels", classes);
  const predicted = tf.tidy(() => tf.argMax(tf.matMul(l2NormalizeRows(imageEmbeddings), tf.transpose(l2NormalizeRows(classEmbeddings))), 1));
  const predictions = Int32Array.from(predicted.dataSync());
  predicted.dispose();
  return { ...scorePredictions(predictions, truth, classes), predictions };
}

/** Options of {@link crossModalRecall}. */
export interface CrossModalRecallOptions {
  /** The K values, each in [1, n]; default `[1, 5, 10]` (those not above n). */
  ks?: number[];
  /**
   * `[n]` a group id per pair: a retrieved item counts as a hit when its
   * group is the query's (e.g. captions that are the same string, so an
   * image retrieving another digit's identical caption is not a miss).
   * Default: each pair its own group (only the paired item is a hit).
   */
  groups?: ArrayLike<number>;
}

/** What {@link crossModalRecall} returns. */
export interface CrossModalRecallResult {
  /** The K values. */
  ks: number[];
  /** Share of images with a hit among their K most similar captions, per K. */
  imageToText: number[];
  /** Share of captions with a hit among their K most similar images, per K. */
  textToImage: number[];
  /** The expected recall of a random ranking, per K (the same both ways): the floor to compare with. */
  chance: number[];
}

/**
 * Cross-modal retrieval Recall@K over n image-caption pairs (row i of both
 * is pair i): every image queries all n captions by cosine similarity, and
 * every caption all n images; Recall@K is the share of queries with a hit
 * among the top K. Neighbours with equal scores are ranked by `tf.topk`.
 *
 * Shapes: `imageEmbeddings`, `textEmbeddings` `[n, dim]` float32, `groups` `[n]`.
 *
 * @example
 * const r = crossModalRecall(clip.embedImages(x), clip.embedTexts(tokenizer.encode(captions)), { ks: [1, 5] });
 * r.imageToText[0]; // image-to-text Recall@1
 */
export function crossModalRecall(imageEmbeddings: tf.Tensor2D, textEmbeddings: tf.Tensor2D, options: CrossModalRecallOptions = {}): CrossModalRecallResult {
  const fn = "crossModalRecall";
  checkMatrix(fn, "imageEmbeddings", imageEmbeddings, undefined, undefined, "float32");
  const [n, dim] = imageEmbeddings.shape;
  if (n < 1) throw new Error(`${fn}: imageEmbeddings must have at least one row, got ${describe(imageEmbeddings)}`);
  checkMatrix(fn, "textEmbeddings", textEmbeddings, n, dim, "float32");
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object {ks?, groups?}, got ${describe(options)}`);
  const ks = options.ks ?? [1, 5, 10].filter((k) => k <= n);
  if (!Array.isArray(ks) || ks.length === 0 || !ks.every((k) => Number.isInteger(k) && k >= 1 && k <= n)) {
    throw new Error(`${fn}: options.ks must be a non-empty array of integers in [1, ${n}], got ${describe(ks)}`);
  }
  const groups = options.groups === undefined ? Int32Array.from({ length: n }, (_, i) => i) : readLabels(options.groups, n, fn, "options.groups");
  const maxK = Math.max(...ks);
  const recallOf = (queries: tf.Tensor2D, items: tf.Tensor2D): number[] => {
    const top = tf.tidy(() => tf.topk(tf.matMul(l2NormalizeRows(queries), tf.transpose(l2NormalizeRows(items))), maxK).indices);
    const ids = top.dataSync();
    top.dispose();
    return ks.map((k) => {
      let hits = 0;
      for (let q = 0; q < n; q++) {
        for (let j = 0; j < k; j++) {
          if (groups[ids[q * maxK + j]] === groups[q]) {
            hits++;
            break;
          }
        }
      }
      return hits / n;
    });
  };
  return { ks: [...ks], imageToText: recallOf(imageEmbeddings, textEmbeddings), textToImage: recallOf(textEmbeddings, imageEmbeddings), chance: chanceRecall(groups, ks) };
}

/** Mean over queries of 1 - C(n - m, k) / C(n, k), m the items in the query's group: a hit among k items drawn at random. */
function chanceRecall(groups: Int32Array, ks: number[]): number[] {
  const n = groups.length;
  const size = new Map<number, number>();
  for (const g of groups) size.set(g, (size.get(g) ?? 0) + 1);
  return ks.map((k) => {
    let total = 0;
    for (const g of groups) {
      const m = size.get(g)!;
      // C(n - m, k) / C(n, k) = prod_{j < k} (n - m - j) / (n - j).
      let miss = 1;
      for (let j = 0; j < k && miss > 0; j++) miss *= Math.max(0, n - m - j) / (n - j);
      total += 1 - miss;
    }
    return total / n;
  });
}
