/**
 * A model in a folder, in TensorFlow.js's own format: `model.json` (the
 * topology and a weights manifest) beside `weights.bin` (the weights, raw
 * little-endian float32). These are the two files `model.save("file://dir")`
 * writes with tfjs-node and `tf.loadLayersModel("file://dir/model.json")`
 * (or, served over HTTP, the browser's `tf.loadLayersModel(url)`) reads, so an
 * encoder trained in one notebook can be picked up in another notebook, a
 * later session or another TensorFlow.js program. tfjs-node is optional
 * here, so the files are written and read through `tf.io` handlers of our
 * own.
 */
import { promises as fs, existsSync } from "fs";
import * as path from "path";
import { tf } from "../backend/tf";

/** The topology file's name, as tfjs-node writes it. */
export const MODEL_JSON = "model.json";
/** The weights file's name, as tfjs-node writes it. */
export const MODEL_WEIGHTS = "weights.bin";

/** JSON-compatible metadata stored with a model (`userDefinedMetadata` in `model.json`). */
export type ModelMetadata = { [key: string]: {} };

/**
 * The artifacts `model.save` produces (topology, weight specs, weights),
 * captured in memory. Leaves the tensor count unchanged.
 */
export async function modelArtifacts(fn: string, model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  if (saved === undefined) throw new Error(`${fn}: model '${model.name}' produced no artifacts`);
  return saved;
}

/** One buffer from the one or many `weightData` holds. */
export function joinWeightData(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  return Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
}

/** The bytes of a file as an ArrayBuffer of its own. */
export async function readFileBuffer(file: string): Promise<ArrayBuffer> {
  const b = await fs.readFile(file);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/**
 * Saves a model to the folder `dir` as `model.json` + `weights.bin`
 * (TensorFlow.js's layers-model format), creating the folder and replacing
 * those two files if present. `metadata` (any JSON: the method, its
 * options, the data's shape, the training steps) is stored as the model's
 * `userDefinedMetadata` and comes back with {@link loadModelFolder}.
 * Leaves the tensor count unchanged.
 *
 * @example
 * await models.saveModelFolder("runs/simclr-encoder", encoder, { method: "SimCLR", steps: 300 });
 * const again = await models.loadModelFolder("runs/simclr-encoder");
 */
export async function saveModelFolder(dir: string, model: tf.LayersModel, metadata?: ModelMetadata): Promise<{ modelJson: string; weights: string }> {
  const fn = "saveModelFolder";
  if (typeof dir !== "string" || dir.length === 0) throw new Error(`${fn}: dir must be a folder path, got ${JSON.stringify(dir)}`);
  if (!(model instanceof tf.LayersModel)) throw new Error(`${fn}: model must be a tf.LayersModel, got ${typeof model}`);
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
      throw new Error(`${fn}: metadata must be a JSON object, got ${JSON.stringify(metadata)}`);
    }
    try {
      JSON.stringify(metadata);
    } catch (e) {
      throw new Error(`${fn}: metadata must be JSON-serialisable: ${(e as Error).message}`);
    }
  }
  const artifacts = await modelArtifacts(fn, model);
  const weightSpecs = artifacts.weightSpecs ?? [];
  const kept = metadata ?? (artifacts.userDefinedMetadata as ModelMetadata | undefined);
  const json = {
    format: artifacts.format ?? "layers-model",
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    modelTopology: artifacts.modelTopology,
    trainingConfig: artifacts.trainingConfig,
    weightsManifest: [{ paths: [`./${MODEL_WEIGHTS}`], weights: weightSpecs }],
    // A model loaded with metadata keeps it when saved again without new metadata.
    ...(kept === undefined ? {} : { userDefinedMetadata: kept }),
  };
  await fs.mkdir(dir, { recursive: true });
  const modelJson = path.join(dir, MODEL_JSON);
  const weights = path.join(dir, MODEL_WEIGHTS);
  await fs.writeFile(weights, Buffer.from(joinWeightData(artifacts.weightData)));
  await fs.writeFile(modelJson, JSON.stringify(json));
  return { modelJson, weights };
}

interface ModelJson {
  modelTopology?: object;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  trainingConfig?: tf.io.TrainingConfig;
  weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  userDefinedMetadata?: ModelMetadata;
}

/**
 * Loads a model saved by {@link saveModelFolder} (or by tfjs-node's
 * `model.save("file://dir")`, or written by the tfjs converter as a
 * layers model) from the folder `dir`: topology, weights and metadata
 * (`model.getUserDefinedMetadata()`). Weight files named in the manifest
 * are read in order and joined, as tfjs does.
 *
 * @example
 * const encoder = await models.loadModelFolder("runs/simclr-encoder");
 * console.log(encoder.getUserDefinedMetadata()); // { method: "SimCLR", steps: 300 }
 */
export async function loadModelFolder(dir: string): Promise<tf.LayersModel> {
  const fn = "loadModelFolder";
  if (typeof dir !== "string" || dir.length === 0) throw new Error(`${fn}: dir must be a folder path, got ${JSON.stringify(dir)}`);
  const modelJson = path.join(dir, MODEL_JSON);
  if (!existsSync(modelJson)) throw new Error(`${fn}: dir must hold ${MODEL_JSON}, got none in '${dir}'`);
  let json: ModelJson;
  try {
    json = JSON.parse(await fs.readFile(modelJson, "utf8")) as ModelJson;
  } catch (e) {
    throw new Error(`${fn}: ${modelJson} is not valid JSON: ${(e as Error).message}`);
  }
  if (json.modelTopology === undefined) throw new Error(`${fn}: ${modelJson} must have a modelTopology (a layers model), got none`);
  const manifest = json.weightsManifest ?? [];
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of manifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) {
      const file = path.join(dir, p);
      if (!existsSync(file)) throw new Error(`${fn}: ${modelJson} names weights file '${p}', which is missing from '${dir}'`);
      buffers.push(await readFileBuffer(file));
    }
  }
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy ?? undefined,
    trainingConfig: json.trainingConfig,
    weightSpecs,
    weightData: tf.io.CompositeArrayBuffer.join(buffers),
    userDefinedMetadata: json.userDefinedMetadata,
  };
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}
