/**
 * Checkpoints: everything a training run needs to continue where it
 * stopped, in one folder.
 *
 * Folder layout (all written by {@link saveCheckpoint}):
 * - `checkpoint.json`: the manifest: format and version, optimizer class and
 *   weight specs, variable specs, model file names, and the caller's JSON
 *   `state` (the loop stores its step, epoch, seed and history there).
 * - `<model>.json` + `<model>.weights.bin` per model: tf.io model artifacts
 *   (topology and weight specs; raw little-endian weights), the same content
 *   `model.save("file://...")` writes with tfjs-node, which is not available
 *   here, so the files are written through `tf.io.withSaveHandler`.
 * - `optimizer.bin`: `optimizer.getWeights()` (iteration count, then the
 *   slots, e.g. Adam's first and second moments), in order;
 *   `optimizer-hidden.bin`: scalar state `getWeights()` omits (Adam's
 *   beta1^t, beta2^t).
 * - `variables.bin`: extra variables (memory banks, queues).
 *
 * A save writes a sibling folder and swaps it in with renames, so an
 * interrupted save leaves the previous checkpoint intact.
 */
import { promises as fs, existsSync } from "fs";
import * as path from "path";
import { tf } from "../backend/tf";
import { joinWeightData, modelArtifacts, readFileBuffer } from "../models/model_folder";

const FORMAT = "ssl-workbook/checkpoint";
const VERSION = 1;
const MANIFEST = "checkpoint.json";

/** JSON-compatible values for a checkpoint's `state`. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What a checkpoint holds; every part is optional. */
export interface CheckpointContents {
  /** Models saved with topology and weights, keyed by a file-safe name. */
  models?: Record<string, tf.LayersModel>;
  /** The optimizer whose slots (`getWeights()`) are saved. */
  optimizer?: tf.Optimizer;
  /** Extra variables, keyed by name: memory banks, queues, EMA targets kept as variables. */
  variables?: Record<string, tf.Variable>;
  /** Any JSON: counters, seeds, history. */
  state?: JsonValue;
}

/** Where {@link loadCheckpoint} puts what it reads. */
export interface CheckpointTargets {
  /** Existing models whose weights are overwritten, keyed as when saved. */
  models?: Record<string, tf.LayersModel>;
  /** An optimizer of the saved class whose slots are replaced. */
  optimizer?: tf.Optimizer;
  /** Existing variables assigned the saved values, keyed as when saved. */
  variables?: Record<string, tf.Variable>;
}

interface WeightsEntry {
  file: string;
  specs: tf.io.WeightsManifestEntry[];
}

interface Manifest {
  format: string;
  version: number;
  models: Record<string, { artifacts: string; weights: string }>;
  optimizer?: WeightsEntry & { className: string; hidden?: WeightsEntry };
  variables?: WeightsEntry & { names: string[] };
  state: JsonValue;
}

function checkName(fn: string, name: string): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith(".")) {
    throw new Error(`${fn}: names must match [A-Za-z0-9_.-]+ and not start with '.', got '${name}'`);
  }
}

/**
 * True when `dir` holds a checkpoint written by {@link saveCheckpoint}.
 *
 * @example
 * if (hasCheckpoint("runs/simclr")) await loadCheckpoint("runs/simclr", { models: { encoder } });
 */
export function hasCheckpoint(dir: string): boolean {
  return existsSync(path.join(dir, MANIFEST));
}

/**
 * Saves models (topology and weights), optimizer slots, extra variables and
 * a JSON state to the folder `dir`, replacing any checkpoint there. Leaves
 * the tensor count unchanged.
 *
 * @example
 * await saveCheckpoint("runs/simclr", {
 *   models: { encoder, head }, optimizer, state: { step: 500, seed: 1 },
 * });
 */
export async function saveCheckpoint(dir: string, contents: CheckpointContents): Promise<void> {
  const models = contents.models ?? {};
  const variables = contents.variables ?? {};
  for (const name of [...Object.keys(models), ...Object.keys(variables)]) checkName("saveCheckpoint", name);

  const parent = path.dirname(path.resolve(dir));
  await fs.mkdir(parent, { recursive: true });
  const base = path.basename(path.resolve(dir));
  const partial = path.join(parent, `.${base}.partial-${process.pid}`);
  const previous = path.join(parent, `.${base}.previous-${process.pid}`);
  await fs.rm(partial, { recursive: true, force: true });
  await fs.mkdir(partial);

  const manifest: Manifest = { format: FORMAT, version: VERSION, models: {}, state: contents.state ?? null };

  for (const [name, model] of Object.entries(models)) {
    const artifacts = await modelArtifacts("saveCheckpoint", model);
    const weights = joinWeightData(artifacts.weightData);
    const json = {
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      modelTopology: artifacts.modelTopology,
      trainingConfig: artifacts.trainingConfig,
      weightSpecs: artifacts.weightSpecs ?? [],
    };
    const entry = { artifacts: `${name}.json`, weights: `${name}.weights.bin` };
    await fs.writeFile(path.join(partial, entry.artifacts), JSON.stringify(json));
    await fs.writeFile(path.join(partial, entry.weights), Buffer.from(weights));
    manifest.models[name] = entry;
  }

  if (contents.optimizer !== undefined) {
    const named = await contents.optimizer.getWeights();
    try {
      const { data, specs } = await tf.io.encodeWeights(named);
      await fs.writeFile(path.join(partial, "optimizer.bin"), Buffer.from(data));
      manifest.optimizer = { className: contents.optimizer.getClassName(), file: "optimizer.bin", specs };
      const hidden = hiddenOptimizerState(contents.optimizer);
      if (hidden.length > 0) {
        const encoded = await tf.io.encodeWeights(hidden);
        await fs.writeFile(path.join(partial, "optimizer-hidden.bin"), Buffer.from(encoded.data));
        manifest.optimizer.hidden = { file: "optimizer-hidden.bin", specs: encoded.specs };
      }
    } finally {
      // getWeights returns the live slot variables plus a fresh iteration scalar.
      tf.dispose(named.map((w) => w.tensor).filter((t) => !(t instanceof tf.Variable)));
    }
  }

  const varNames = Object.keys(variables);
  if (varNames.length > 0) {
    const { data, specs } = await tf.io.encodeWeights(varNames.map((name) => ({ name, tensor: variables[name] })));
    await fs.writeFile(path.join(partial, "variables.bin"), Buffer.from(data));
    manifest.variables = { file: "variables.bin", specs, names: varNames };
  }

  await fs.writeFile(path.join(partial, MANIFEST), JSON.stringify(manifest));

  await fs.rm(previous, { recursive: true, force: true });
  if (existsSync(dir)) await fs.rename(dir, previous);
  await fs.rename(partial, dir);
  await fs.rm(previous, { recursive: true, force: true });
}

/**
 * Optimizer state that `getWeights()` leaves out: scalar variables held in
 * the optimizer's own fields, such as Adam's running products beta1^t and
 * beta2^t. Adam's `setWeights` recomputes them as `pow(beta, t)`, which
 * differs from the running product in the last bits; with near-zero
 * gradients (a bias before BatchNorm) Adam amplifies that into visibly
 * different weights within a few steps. Saving the fields themselves makes
 * a resumed run match an uninterrupted one.
 */
function hiddenOptimizerState(optimizer: tf.Optimizer): Array<{ name: string; tensor: tf.Variable }> {
  return Object.entries(optimizer)
    .filter(([, v]) => v instanceof tf.Variable && v.rank === 0 && !v.isDisposed)
    .map(([name, v]) => ({ name, tensor: v as tf.Variable }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function readManifest(fn: string, dir: string): Promise<Manifest> {
  const file = path.join(dir, MANIFEST);
  if (!existsSync(file)) throw new Error(`${fn}: dir must hold a checkpoint (${MANIFEST}), got none in '${dir}'`);
  const manifest = JSON.parse(await fs.readFile(file, "utf8")) as Manifest;
  if (manifest.format !== FORMAT || manifest.version !== VERSION) {
    throw new Error(`${fn}: expected format ${FORMAT} version ${VERSION}, got ${manifest.format} version ${manifest.version}`);
  }
  return manifest;
}

async function readArtifacts(dir: string, entry: { artifacts: string; weights: string }): Promise<tf.io.ModelArtifacts> {
  const json = JSON.parse(await fs.readFile(path.join(dir, entry.artifacts), "utf8")) as tf.io.ModelArtifacts;
  return { ...json, weightData: await readFileBuffer(path.join(dir, entry.weights)) };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Restores a checkpoint into existing objects and returns its JSON state.
 *
 * Models get their saved weights in `model.weights` order (names differ
 * between two builds of one architecture; order and shapes do not), checked
 * shape by shape. The optimizer gets its saved slots through `setWeights`;
 * slots are matched to variables by position, the order of the `varList`
 * given to `minimize`, so build the models and the variable list as before.
 * Every saved model, the optimizer and every variable named in `targets`
 * must be in the checkpoint; parts of the checkpoint not asked for are
 * skipped.
 *
 * @example
 * const encoder = smallCnnEncoder({ seed: 1 });
 * const optimizer = tf.train.adam(1e-3);
 * const state = await loadCheckpoint("runs/simclr", { models: { encoder }, optimizer });
 */
export async function loadCheckpoint(dir: string, targets: CheckpointTargets = {}): Promise<JsonValue> {
  const fn = "loadCheckpoint";
  const manifest = await readManifest(fn, dir);

  for (const [name, model] of Object.entries(targets.models ?? {})) {
    const entry = manifest.models[name];
    if (entry === undefined) {
      throw new Error(`${fn}: models.${name} must be saved in '${dir}', got only [${Object.keys(manifest.models).join(", ")}]`);
    }
    const artifacts = await readArtifacts(dir, entry);
    const specs = artifacts.weightSpecs ?? [];
    const current = model.weights;
    if (specs.length !== current.length) {
      throw new Error(`${fn}: models.${name} must have ${specs.length} weights as saved, got ${current.length}`);
    }
    specs.forEach((spec, i) => {
      if (!sameShape(spec.shape, current[i].shape as number[])) {
        throw new Error(
          `${fn}: models.${name} weight ${i} (${current[i].name}) must have shape [${spec.shape}] as saved, got [${current[i].shape}]`,
        );
      }
    });
    const decoded = tf.io.decodeWeights(artifacts.weightData as ArrayBuffer, specs);
    try {
      model.setWeights(specs.map((s) => decoded[s.name]));
    } finally {
      tf.dispose(Object.values(decoded));
    }
  }

  if (targets.optimizer !== undefined) {
    const saved = manifest.optimizer;
    if (saved === undefined) throw new Error(`${fn}: optimizer must be saved in '${dir}', got none`);
    const className = targets.optimizer.getClassName();
    if (className !== saved.className) {
      throw new Error(`${fn}: optimizer must be a ${saved.className} as saved, got ${className}`);
    }
    const decoded = tf.io.decodeWeights(await readFileBuffer(path.join(dir, saved.file)), saved.specs);
    const old = (await targets.optimizer.getWeights()).map((w) => w.tensor);
    try {
      await targets.optimizer.setWeights(saved.specs.map((s) => ({ name: s.name, tensor: decoded[s.name] })));
    } finally {
      // setWeights makes new slot variables from the decoded tensors (which
      // keep their data alive) and drops the old slots without disposing them.
      tf.dispose(Object.values(decoded));
      tf.dispose(old.filter((t) => !(t instanceof tf.Variable)));
    }
    tf.dispose(old);
    const hidden = saved.hidden;
    if (hidden !== undefined) {
      const values = tf.io.decodeWeights(await readFileBuffer(path.join(dir, hidden.file)), hidden.specs);
      try {
        for (const { name, tensor } of hiddenOptimizerState(targets.optimizer)) {
          const value = values[name];
          if (value !== undefined && sameShape(value.shape, tensor.shape)) (tensor as tf.Variable).assign(value);
        }
      } finally {
        tf.dispose(Object.values(values));
      }
    }
  }

  const wanted = targets.variables ?? {};
  if (Object.keys(wanted).length > 0) {
    const saved = manifest.variables;
    if (saved === undefined) throw new Error(`${fn}: variables must be saved in '${dir}', got none`);
    const decoded = tf.io.decodeWeights(await readFileBuffer(path.join(dir, saved.file)), saved.specs);
    try {
      for (const [name, variable] of Object.entries(wanted)) {
        const value = decoded[name];
        if (value === undefined) {
          throw new Error(`${fn}: variables.${name} must be saved in '${dir}', got only [${saved.names.join(", ")}]`);
        }
        if (!sameShape(value.shape, variable.shape)) {
          throw new Error(`${fn}: variables.${name} must have shape [${value.shape}] as saved, got [${variable.shape}]`);
        }
        variable.assign(value);
      }
    } finally {
      tf.dispose(Object.values(decoded));
    }
  }
  return manifest.state;
}

/**
 * Loads one saved model as a new `tf.LayersModel` (topology and weights),
 * e.g. a pretrained encoder in another notebook.
 *
 * @example
 * const encoder = await loadCheckpointModel("runs/simclr", "encoder");
 */
export async function loadCheckpointModel(dir: string, name: string): Promise<tf.LayersModel> {
  const fn = "loadCheckpointModel";
  const manifest = await readManifest(fn, dir);
  const entry = manifest.models[name];
  if (entry === undefined) {
    throw new Error(`${fn}: name must be a model saved in '${dir}', got '${name}' (saved: [${Object.keys(manifest.models).join(", ")}])`);
  }
  return tf.loadLayersModel(tf.io.fromMemory(await readArtifacts(dir, entry)));
}

/**
 * The JSON state of the checkpoint in `dir`, without loading tensors.
 *
 * @example
 * const { step } = (await readCheckpointState("runs/simclr")) as { step: number };
 */
export async function readCheckpointState(dir: string): Promise<JsonValue> {
  return (await readManifest("readCheckpointState", dir)).state;
}
