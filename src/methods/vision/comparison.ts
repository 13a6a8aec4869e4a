/**
 * One budget, one yardstick: the procedure that compares vision methods
 * fairly (notebook 04 and any notebook that compares encoders). Every method
 * trains through `training.train` with the same batches, steps, optimizer
 * recipe and seed, then its frozen encoder is measured by
 * `evaluation.representationDiagnostics` with the same splits and views, and
 * the result becomes a row of one table.
 */
import { tf } from "../../backend/tf";
import type { TwoViewAugment } from "../../augment/augmentation";
import type { ImageSet } from "../../data/mnist";
import type { Rng } from "../../data/random";
import {
  representationDiagnostics,
  type RepresentationDiagnostics,
  type RepresentationDiagnosticsOptions,
} from "../../evaluation/diagnostics";
import type { FeatureExtractor } from "../../evaluation/features";
import type { LabelledSplit } from "../../evaluation/baselines";
import { adam } from "../../training/adam";
import { train, type History } from "../../training/loop";
import { visionBatches } from "./batches";
import { checkPositiveInteger } from "./checks";
import type { VisionBatch, VisionMethod } from "./method";

/** Options of {@link visionComparison}: the budget and yardstick every method shares. */
export interface VisionComparisonOptions {
  /** The unlabelled training images the methods learn from (`images` `[n, ...shape]` values of any `[height, width, channels]`, `labels` for SupCon only). */
  trainSet: ImageSet;
  /** Split the probe and kNN are fitted on (usually the same images as tensors, with labels). */
  train: LabelledSplit;
  /** Split they are scored on. */
  test: LabelledSplit;
  /** Draws the two views whose features give alignment and uniformity. */
  views: TwoViewAugment;
  /** Seed of every run (batch order, augmentations) and, unless `diagnostics.seed` says otherwise, of the diagnostics' views; default 1. */
  seed?: number;
  /** Images per step; default 64. */
  batchSize?: number;
  /** Steps per method; default 125 (one pass over 8,000 images in batches of 64). */
  steps?: number;
  /** Adam's learning rate when a run passes no optimizer; default 1e-3. */
  learningRate?: number;
  /** Further options of every diagnosis (views' seed, probe recipe, kNN, `labelsPerClass` for the few-labels yardstick). */
  diagnostics?: Partial<Omit<RepresentationDiagnosticsOptions, "encoder" | "train" | "test" | "views">>;
  /** Called after each run with its row and history, e.g. to show a line in the notebook. */
  onRun?(row: ComparisonRow, history: History): void;
}

/** Per-run overrides of {@link VisionComparison.run}. */
export interface VisionRunOptions {
  /** Row name; default the method's name. */
  name?: string;
  /** Steps of this run; default the comparison's. */
  steps?: number;
  /** Images per step; default the comparison's. */
  batchSize?: number;
  /** Hand the labels to the method (SupCon); default false. */
  labels?: boolean;
  /** Adam's learning rate of this run; default the comparison's. */
  learningRate?: number;
  /** An optimizer of your own (not disposed); default a fresh fused Adam, disposed after the run. */
  optimizer?: tf.Optimizer;
  /** Batches of your own; default `methods.visionBatches(trainSet, ...)`. */
  batches?: (epoch: number, rng: Rng) => Iterable<VisionBatch>;
  /** Add the result to `rows`; default true (false for ablations shown apart). */
  record?: boolean;
  /** Diagnosis options of this run over the comparison's. */
  diagnostics?: VisionComparisonOptions["diagnostics"];
  /** Run the few-labels probes the comparison asks for; default true (false for ablations that read only the full probe). */
  fewLabels?: boolean;
}

/** One row of the comparison: the method's diagnostics and its training time. */
export interface ComparisonRow extends RepresentationDiagnostics {
  /** Row name. */
  name: string;
  /** Seconds of training (0 for baselines). */
  trainSeconds: number;
}

/** What {@link visionComparison} returns. */
export interface VisionComparison {
  /** Rows in the order they were added. */
  readonly rows: ComparisonRow[];
  /** The shared diagnosis of a frozen encoder (or any `[n, ...] -> [n, d]` function), with optional overrides. */
  diagnose(encoder: FeatureExtractor, overrides?: VisionComparisonOptions["diagnostics"]): RepresentationDiagnostics;
  /** Diagnoses `encoder` and adds it as a row with no training time: the baselines. */
  addBaseline(name: string, encoder: FeatureExtractor): ComparisonRow;
  /** Trains `method` on the shared budget, diagnoses its encoder, adds a row unless `record` is false. */
  run(method: VisionMethod, options?: VisionRunOptions): Promise<{ history: History; diagnostics: ComparisonRow }>;
  /**
   * One line of markdown on a row, beside the row named `baseline` (default
   * "random init") when there is one: probe, few-labels probe, kNN, rank.
   */
  describe(row: ComparisonRow, baseline?: string): string;
}

/**
 * A fair comparison of vision methods: same data, batches, steps, optimizer
 * recipe and seed for every method; same splits, views, probe and kNN for
 * every encoder.
 *
 * @example
 * const cmp = methods.visionComparison({ trainSet: mnist.train, train: trainSplit, test: testSplit,
 *   views: augment.twoViews(augment.simclrAugment()) });
 * cmp.addBaseline("raw pixels", (x) => tf.reshape(x, [x.shape[0], -1]));
 * const { history, diagnostics } = await cmp.run(methods.createSimclr({ encoder: models.smallCnnEncoder({ seed: 1 }), encoderDim: 128 }));
 * plot.showTable(cmp.rows.map(({ name, linearProbe, knn }) => ({ name, linearProbe, knn })));
 */
export function visionComparison(options: VisionComparisonOptions): VisionComparison {
  const fn = "visionComparison";
  if (options === null || typeof options !== "object") {
    throw new Error(`${fn}: options must be an object {trainSet, train, test, views}, got ${options}`);
  }
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed)) throw new Error(`${fn}: options.seed must be an integer, got ${seed}`);
  const batchSize = options.batchSize ?? 64;
  const steps = options.steps ?? 125;
  checkPositiveInteger(fn, "options.batchSize", batchSize);
  checkPositiveInteger(fn, "options.steps", steps);
  const learningRate = options.learningRate ?? 1e-3;
  if (!(typeof learningRate === "number" && learningRate > 0 && Number.isFinite(learningRate))) {
    throw new Error(`${fn}: options.learningRate must be a positive number, got ${learningRate}`);
  }
  if (options.trainSet === undefined || typeof options.trainSet.n !== "number") {
    throw new Error(`${fn}: options.trainSet must be an image set {images, labels, n}, got ${typeof options.trainSet}`);
  }
  const rows: ComparisonRow[] = [];

  const diagnose = (encoder: FeatureExtractor, overrides: VisionComparisonOptions["diagnostics"] = {}): RepresentationDiagnostics => {
    // An override set to undefined removes the comparison's setting.
    const settings = Object.fromEntries(
      Object.entries({ ...options.diagnostics, ...overrides }).filter(([, v]) => v !== undefined),
    ) as NonNullable<VisionComparisonOptions["diagnostics"]>;
    return representationDiagnostics({
      ...settings,
      encoder: encoder,
      train: options.train,
      test: options.test,
      views: options.views,
      seed: settings.seed ?? seed,
    });
  };

  const toRow = (name: string, d: RepresentationDiagnostics, trainSeconds: number): ComparisonRow => ({ name, trainSeconds, ...d });

  const describe = (row: ComparisonRow, baselineName = "random init"): string => {
    const base = rows.find((r) => r.name === baselineName && r !== row);
    const vs = (get: (r: ComparisonRow) => number | undefined): string => {
      const v = base ? get(base) : undefined;
      return v === undefined ? "" : ` (${baselineName} ${v.toFixed(3)})`;
    };
    const few = (r: ComparisonRow) => r.fewLabels?.find((p) => p.labelsPerClass === 10)?.linearProbe.mean;
    const parts = [`linear probe **${row.linearProbe.toFixed(3)}**${vs((r) => r.linearProbe)}`];
    const f = few(row);
    if (f !== undefined) parts.push(`with 10 labels per class ${f.toFixed(3)}${vs(few)}`);
    parts.push(`kNN ${row.knn.toFixed(3)}${vs((r) => r.knn)}`, `effective rank ${row.effectiveRank.toFixed(1)}`);
    const trained = row.trainSeconds > 0 ? ` after ${row.trainSeconds.toFixed(0)} s of training` : "";
    return `**${row.name}**${trained}: ${parts.join(", ")}.`;
  };

  return {
    rows,
    diagnose,
    describe,
    addBaseline(name, encoder) {
      const row = toRow(name, diagnose(encoder), 0);
      rows.push(row);
      return row;
    },
    async run(method, runOptions = {}) {
      const name = runOptions.name ?? method.name;
      const runBatch = runOptions.batchSize ?? batchSize;
      const runSteps = runOptions.steps ?? steps;
      checkPositiveInteger(`${fn}.run`, "options.batchSize", runBatch);
      checkPositiveInteger(`${fn}.run`, "options.steps", runSteps);
      const optimizer = runOptions.optimizer ?? adam(runOptions.learningRate ?? learningRate);
      let history: History;
      try {
        history = await train({
          ...method,
          optimizer,
          steps: runSteps,
          seed,
          label: name,
          itemsPerBatch: runBatch,
          batches: runOptions.batches ?? visionBatches(options.trainSet, { batchSize: runBatch, labels: runOptions.labels ?? false }),
        });
      } finally {
        if (runOptions.optimizer === undefined) optimizer.dispose();
      }
      const overrides = runOptions.fewLabels === false
        ? { ...runOptions.diagnostics, labelsPerClass: undefined, labelDraws: undefined, labelSeed: undefined }
        : runOptions.diagnostics;
      const row = toRow(name, diagnose(method.encoder, overrides), history.elapsedSeconds);
      if (runOptions.record !== false) rows.push(row);
      options.onRun?.(row, history);
      return { history, diagnostics: row };
    },
  };
}
