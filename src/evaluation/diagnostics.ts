/**
 * Everything the vision notebook reports about one frozen encoder, in one
 * call: transfer (linear probe, kNN) and geometry (alignment and uniformity
 * of two augmented views, Wang & Isola 2020; the singular-value spectrum and
 * effective rank of the features, the collapse detector of Jing et al.
 * 2022 and Garrido et al. 2023).
 */
import { tf } from "../backend/tf";
import type { TwoViewAugment } from "../augment/augmentation";
import { alignmentUniformity } from "./alignment_uniformity";
import { checkFewLabelOptions, type FrozenEvaluationOptions, type LabelledSplit } from "./baselines";
import { extractFeatures, FeatureExtractor } from "./features";
import { knnClassify, KnnOptions } from "./knn";
import { LabelBudget, labelEfficiency, LabelEfficiencyPoint } from "./label_efficiency";
import { linearProbe, LinearProbeOptions } from "./linear_probe";
import { featureSpectrum } from "./spectrum";

/** Options of {@link representationDiagnostics}. */
export interface RepresentationDiagnosticsOptions extends FrozenEvaluationOptions {
  /** The frozen encoder `[n, ...inputShape] -> [n, dim]` (a model runs in inference mode). */
  encoder: FeatureExtractor;
  /** Split the probe and kNN are fitted on. */
  train: LabelledSplit;
  /** Split they are scored on; its images also give the views and the spectrum. */
  test: LabelledSplit;
  /** Draws the two views whose features give alignment and uniformity. */
  views: TwoViewAugment;
  /** Seed of the views; default 0 (the same views for every encoder compared). */
  seed?: number;
}

/** What {@link representationDiagnostics} returns: numbers, no tensors. */
export interface RepresentationDiagnostics {
  /** Feature dimension. */
  dim: number;
  /** Linear-probe accuracy on the test split. */
  linearProbe: number;
  /** kNN accuracy on the test split. */
  knn: number;
  /** Mean squared distance of the L2-normalised features of two views of a test image (0 to 4; lower: more invariant). */
  alignment: number;
  /** log E exp(-2 ||f(x) - f(y)||^2) over test images (-4 to 0; lower: more spread over the sphere). */
  uniformity: number;
  /** exp(entropy of the normalised singular values) of the centred test features: 1 for a collapse to a line, `dim` for a round cloud. */
  effectiveRank: number;
  /** Singular values of the centred test features, descending `[min(n, dim)]`. */
  singularValues: Float64Array;
  /** Probe and kNN with few labels, per budget (only when `labelsPerClass` is given). */
  fewLabels?: LabelEfficiencyPoint[];
  /** Seconds spent. */
  seconds: number;
}

/**
 * Probes, kNN, alignment, uniformity and spectrum of `encoder`'s features.
 * Features of the test images (clean) give the spectrum; features of two
 * augmented views of the test images give alignment and uniformity (the
 * uniformity of the two views averaged, as in the paper's code). With
 * `labelsPerClass`, also `fewLabels`: `labelEfficiency` on the same
 * features, on subsets fixed by `labelSeed`. Leaves `tf.memory()` as it
 * found it.
 *
 * Shapes: `train.x` `[n, ...]`, `test.x` `[m, ...]` -> numbers.
 *
 * @example
 * const d = evaluation.representationDiagnostics({ encoder, train: { x: trainX, y: trainY }, test: { x: testX, y: testY },
 *   views: augment.twoViews(augment.simclrAugment()) });
 * d.linearProbe; d.effectiveRank; // 0.96, 41.3
 */
export function representationDiagnostics(options: RepresentationDiagnosticsOptions): RepresentationDiagnostics {
  const fn = "representationDiagnostics";
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object {encoder, train, test, views}, got ${options}`);
  for (const split of ["train", "test"] as const) {
    const s = options[split];
    if (s === undefined || !(s.x instanceof tf.Tensor) || s.x.rank < 2) {
      const got = s?.x instanceof tf.Tensor ? `shape [${s.x.shape}]` : typeof s?.x;
      throw new Error(`${fn}: options.${split}.x must be a tf.Tensor [n, ...inputShape], got ${got}`);
    }
  }
  if (typeof options.views !== "function") throw new Error(`${fn}: options.views must be a function (images, seed) => [view1, view2], got ${typeof options.views}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: options.seed must be an integer, got ${seed}`);
  const fewLabels = checkFewLabelOptions(options, options.train.y, options.train.x.shape[0], fn);
  const { encoder, train, test, batchSize } = options;
  const started = performance.now();
  const trainF = extractFeatures(encoder, train.x, { batchSize });
  const testF = extractFeatures(encoder, test.x, { batchSize });
  try {
    const probe = linearProbe(trainF, train.y, testF, test.y, options.probe);
    const knn = knnClassify(trainF, train.y, testF, test.y, options.knn);
    const few = fewLabels === undefined ? undefined : labelEfficiency({
      train: { x: trainF, y: train.y }, test: { x: testF, y: test.y }, ...fewLabels, probe: options.probe, knn: options.knn,
    });
    const spectrum = featureSpectrum(testF);
    const [view1, view2] = options.views(test.x as tf.Tensor4D, seed);
    let geometry;
    try {
      const f1 = extractFeatures(encoder, view1, { batchSize });
      const f2 = extractFeatures(encoder, view2, { batchSize });
      geometry = alignmentUniformity(f1, f2);
      tf.dispose([f1, f2]);
    } finally {
      tf.dispose([view1, view2]);
    }
    return {
      dim: trainF.shape[1],
      linearProbe: probe.accuracy,
      knn: knn.accuracy,
      alignment: geometry.alignment,
      uniformity: geometry.uniformity,
      effectiveRank: spectrum.effectiveRank,
      singularValues: spectrum.singularValues,
      ...(few === undefined ? {} : { fewLabels: few }),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    tf.dispose([trainF, testF]);
  }
}
