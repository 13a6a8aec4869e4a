/**
 * Judging a representation the way every result in the workbook is
 * reported: a linear probe and a kNN classifier on its frozen features,
 * beside the same two numbers for two baselines, the raw inputs and the
 * same encoder architecture at random initialisation. A learned
 * representation is only interesting where it beats both: random
 * convolutional features are already a strong baseline (Jarrett et al.
 * 2009; Saxe et al. 2011).
 */
import { tf } from "../backend/tf";
import { extractFeatures, FeatureExtractor, flattenInputs } from "./features";
import { knnClassify, KnnOptions } from "./knn";
import { checkBudgetCounts, checkBudgets, LabelBudget, labelEfficiency, LabelEfficiencyPoint } from "./label_efficiency";
import { Labels, readLabels } from "./labels";
import { linearProbe, LinearProbeOptions } from "./linear_probe";

/** A labelled split: inputs `[n, ...inputShape]` and labels `[n]`. */
export interface LabelledSplit {
  x: tf.Tensor;
  y: Labels;
}

/** How frozen features are judged: shared by `evaluateRepresentation` and `representationDiagnostics`. */
export interface FrozenEvaluationOptions {
  /** Linear probe recipe (defaults: see `linearProbe`). */
  probe?: LinearProbeOptions;
  /** kNN options (defaults: k = 20, cosine, majority vote). */
  knn?: KnnOptions;
  /** Batch size of feature extraction; default 1024 (`extractFeatures`). */
  batchSize?: number;
  /**
   * Few-label budgets (labelled examples per class, or "all"): when given,
   * every result also gets `fewLabels`, `labelEfficiency` on the features
   * already extracted, with the same probe and kNN options.
   */
  labelsPerClass?: LabelBudget[];
  /** Seeded draws per budget of `labelsPerClass`; default 5. */
  labelDraws?: number;
  /**
   * Seed of the draws; default 0: every representation, and every call with
   * this seed, uses the same labelled examples (separate from any views'
   * seed, so the views can change while the labelled examples stay).
   */
  labelSeed?: number;
}

/** Options of {@link evaluateRepresentation}. */
export interface EvaluateRepresentationOptions extends FrozenEvaluationOptions {
  /** The trained encoder: a model or a function `[batch, ...] -> [batch, dim]`. */
  encoder: FeatureExtractor;
  /** Row name of the encoder; default "encoder". */
  name?: string;
  /**
   * Builds the same architecture untrained. Default for a `tf.LayersModel`:
   * rebuilt from its own config (`tf.models.modelFromJSON`), so seeded
   * initialisers (the workbook's encoders) give exactly the weights the
   * encoder started from. Required when `encoder` is a function. A model
   * it returns is disposed after use: return a new one.
   */
  makeRandomEncoder?: () => FeatureExtractor | Promise<FeatureExtractor>;
  /** Split the probe and kNN are fitted on. */
  train: LabelledSplit;
  /** Split they are scored on. */
  test: LabelledSplit;
}

/** One row of the comparison table. */
export interface EvaluationRow {
  /** "raw inputs", "random init" or the encoder's name. */
  representation: string;
  /** Feature dimension. */
  dim: number;
  /** Linear probe test accuracy. */
  linearProbe: number;
  /** kNN test accuracy. */
  knn: number;
  /** Probe and kNN with few labels, per budget (only when `labelsPerClass` is given). */
  fewLabels?: LabelEfficiencyPoint[];
  /** Seconds spent on this row (features, probe and kNN). */
  seconds: number;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Reports probe and kNN accuracy for raw inputs (flattened), the encoder's
 * architecture at random initialisation, and the encoder, in that order:
 * rows ready for a table. All three use the same splits, probe recipe and
 * kNN options. With `labelsPerClass`, each row also carries `fewLabels`
 * (`labelEfficiency` on its features), every row on the same labelled
 * subsets. Tensors are left as found.
 *
 * @example
 * const rows = await evaluateRepresentation({
 *   encoder, name: "SimCLR",
 *   train: { x: trainImages, y: trainLabels }, test: { x: testImages, y: testLabels },
 * });
 * // [{ representation: "raw inputs", dim: 784, linearProbe: 0.88, knn: 0.91, ... },
 * //  { representation: "random init", ... }, { representation: "SimCLR", ... }]
 */
export async function evaluateRepresentation(options: EvaluateRepresentationOptions): Promise<EvaluationRow[]> {
  const fn = "evaluateRepresentation";
  for (const split of ["train", "test"] as const) {
    const s = options[split];
    if (s === undefined || !(s.x instanceof tf.Tensor) || s.x.rank < 2) {
      const got = s?.x instanceof tf.Tensor ? `shape [${s.x.shape}]` : typeof s?.x;
      throw new Error(`${fn}: ${split}.x must be a tf.Tensor [n, ...inputShape], got ${got}`);
    }
  }
  const { train, test } = options;
  if (train.x.shape.slice(1).join() !== test.x.shape.slice(1).join()) {
    throw new Error(`${fn}: test.x must have shape [n, ${train.x.shape.slice(1)}] like train.x, got [${test.x.shape}]`);
  }
  let makeRandom = options.makeRandomEncoder;
  if (makeRandom === undefined) {
    const encoder = options.encoder;
    if (!(encoder instanceof tf.LayersModel)) {
      throw new Error(`${fn}: makeRandomEncoder must be given when encoder is a function, got none`);
    }
    makeRandom = () => tf.models.modelFromJSON({ modelTopology: encoder.toJSON(null, false) as tf.io.ModelJSON["modelTopology"] });
  }
  const batchSize = options.batchSize;
  const fewLabels = checkFewLabelOptions(options, train.y, train.x.shape[0], fn);

  const score = (representation: string, trainF: tf.Tensor2D, testF: tf.Tensor2D, started: number): EvaluationRow => {
    const probe = linearProbe(trainF, train.y, testF, test.y, options.probe);
    const knn = knnClassify(trainF, train.y, testF, test.y, options.knn);
    const few = fewLabels === undefined ? undefined : labelEfficiency({
      train: { x: trainF, y: train.y }, test: { x: testF, y: test.y }, ...fewLabels, probe: options.probe, knn: options.knn,
    });
    return {
      representation,
      dim: trainF.shape[1],
      linearProbe: probe.accuracy,
      knn: knn.accuracy,
      ...(few === undefined ? {} : { fewLabels: few }),
      seconds: (performance.now() - started) / 1000,
    };
  };
  const scoreEncoder = (representation: string, encoder: FeatureExtractor): EvaluationRow => {
    const started = performance.now();
    const trainF = extractFeatures(encoder, train.x, { batchSize });
    try {
      const testF = extractFeatures(encoder, test.x, { batchSize });
      try {
        return score(representation, trainF, testF, started);
      } finally {
        testF.dispose();
      }
    } finally {
      trainF.dispose();
    }
  };

  const rows: EvaluationRow[] = [];
  {
    const started = performance.now();
    const trainF = flattenInputs(train.x);
    const testF = flattenInputs(test.x);
    try {
      rows.push(score("raw inputs", trainF, testF, started));
    } finally {
      tf.dispose([trainF, testF]);
    }
  }
  await yieldToEventLoop();
  const randomEncoder = await makeRandom();
  try {
    rows.push(scoreEncoder("random init", randomEncoder));
  } finally {
    if (randomEncoder instanceof tf.LayersModel) randomEncoder.dispose();
  }
  await yieldToEventLoop();
  rows.push(scoreEncoder(options.name ?? "encoder", options.encoder));
  return rows;
}

/**
 * Reads `labelsPerClass`, `labelDraws` and `labelSeed` of an evaluation's
 * options and checks every class of the `n` train labels has enough
 * examples, before any features are computed: undefined when no few-label
 * budgets are asked for.
 * @internal
 */
export function checkFewLabelOptions(
  options: { labelsPerClass?: LabelBudget[]; labelDraws?: number; labelSeed?: number },
  trainLabels: Labels,
  n: number,
  fn: string,
): { labelsPerClass: LabelBudget[]; draws: number; seed: number } | undefined {
  if (options.labelsPerClass === undefined) {
    for (const key of ["labelDraws", "labelSeed"] as const) {
      if (options[key] !== undefined) throw new Error(`${fn}: options.${key} needs options.labelsPerClass, got ${key} ${options[key]} without it`);
    }
    return undefined;
  }
  checkBudgets(options.labelsPerClass, fn, "options.labelsPerClass");
  const draws = options.labelDraws ?? 5;
  if (!Number.isInteger(draws) || draws <= 0) throw new Error(`${fn}: options.labelDraws must be a positive integer, got ${draws}`);
  const seed = options.labelSeed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: options.labelSeed must be an integer, got ${seed}`);
  checkBudgetCounts(readLabels(trainLabels, n, fn, "options.train.y"), options.labelsPerClass, fn);
  return { labelsPerClass: options.labelsPerClass, draws, seed };
}
