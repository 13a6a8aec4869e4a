import { before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { tf } from "../../src/backend/tf";
import { smallCnnEncoder } from "../../src/models/encoders";
import { MODEL_JSON, MODEL_WEIGHTS, loadModelFolder, saveModelFolder } from "../../src/models/model_folder";
import { createRng } from "../../src/data/random";
import "../../src/backend/select"; // registers the wasm backend

before(async () => {
  await tf.setBackend("wasm");
});

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), "model-folder-"));
}

function images(shape: [number, number, number], n: number, seed: number): tf.Tensor4D {
  const rng = createRng(seed);
  const data = Float32Array.from({ length: n * shape[0] * shape[1] * shape[2] }, () => rng.next());
  return tf.tensor4d(data, [n, ...shape]);
}

for (const shape of [[28, 28, 1], [32, 32, 3]] as Array<[number, number, number]>) {
  test(`saveModelFolder/loadModelFolder: a ${shape.join("x")} encoder gives the same outputs after the round trip`, async () => {
    const dir = tempDir();
    try {
      const encoder = smallCnnEncoder({ inputShape: shape, channels: [4, 8, 8], seed: 3 });
      const x = images(shape, 5, 7);
      const before = tf.memory().numTensors;
      await saveModelFolder(dir, encoder, { method: "SimCLR", steps: 12 });
      assert.equal(tf.memory().numTensors, before, "saving leaves the tensor count unchanged");
      const loaded = await loadModelFolder(dir);
      try {
        const a = encoder.predict(x) as tf.Tensor;
        const b = loaded.predict(x) as tf.Tensor;
        assert.deepEqual(b.shape, a.shape);
        assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()), "outputs are bit-identical");
        tf.dispose([a, b]);
        assert.deepEqual(loaded.getUserDefinedMetadata(), { method: "SimCLR", steps: 12 });
        assert.deepEqual(loaded.inputs[0].shape, [null, ...shape]);
      } finally {
        loaded.dispose();
        encoder.dispose();
        x.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("saveModelFolder writes tfjs's layers-model format: model.json with a weights manifest, and weights.bin", async () => {
  const dir = tempDir();
  try {
    const encoder = smallCnnEncoder({ channels: [2, 2, 2], seed: 1 });
    await saveModelFolder(dir, encoder);
    const json = JSON.parse(readFileSync(path.join(dir, MODEL_JSON), "utf8"));
    assert.equal(json.format, "layers-model");
    assert.equal(typeof json.modelTopology.class_name, "string");
    assert.deepEqual(json.weightsManifest[0].paths, [`./${MODEL_WEIGHTS}`]);
    const specs = json.weightsManifest[0].weights as Array<{ shape: number[]; dtype: string }>;
    const floats = specs.reduce((sum, s) => sum + s.shape.reduce((p, d) => p * d, 1), 0);
    assert.equal(readFileSync(path.join(dir, MODEL_WEIGHTS)).byteLength, floats * 4, "weights.bin holds every float32 weight");
    assert.equal(specs.length, encoder.weights.length);
    assert.equal("userDefinedMetadata" in json, false);
    encoder.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("loadModelFolder joins weights split over several files, as the tfjs converter writes them", async () => {
  const dir = tempDir();
  try {
    const encoder = smallCnnEncoder({ channels: [2, 2, 2], seed: 2 });
    await saveModelFolder(dir, encoder);
    const bytes = readFileSync(path.join(dir, MODEL_WEIGHTS));
    const cut = 64;
    writeFileSync(path.join(dir, "group1-shard1of2.bin"), bytes.subarray(0, cut));
    writeFileSync(path.join(dir, "group1-shard2of2.bin"), bytes.subarray(cut));
    rmSync(path.join(dir, MODEL_WEIGHTS));
    const json = JSON.parse(readFileSync(path.join(dir, MODEL_JSON), "utf8"));
    json.weightsManifest[0].paths = ["group1-shard1of2.bin", "group1-shard2of2.bin"];
    writeFileSync(path.join(dir, MODEL_JSON), JSON.stringify(json));
    const loaded = await loadModelFolder(dir);
    const a = encoder.getWeights().map((w) => Array.from(w.dataSync()));
    const b = loaded.getWeights().map((w) => Array.from(w.dataSync()));
    assert.deepEqual(b, a);
    loaded.dispose();
    encoder.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a loaded model saved again without metadata keeps its metadata", async () => {
  const first = tempDir();
  const second = tempDir();
  try {
    const encoder = smallCnnEncoder({ channels: [2, 2, 2], seed: 4 });
    await saveModelFolder(first, encoder, { note: "kept" });
    const loaded = await loadModelFolder(first);
    await saveModelFolder(second, loaded);
    const again = await loadModelFolder(second);
    assert.deepEqual(again.getUserDefinedMetadata(), { note: "kept" });
    [encoder, loaded, again].forEach((m) => m.dispose());
  } finally {
    rmSync(first, { recursive: true, force: true });
    rmSync(second, { recursive: true, force: true });
  }
});

test("saveModelFolder and loadModelFolder name what is wrong", async () => {
  const dir = tempDir();
  try {
    const encoder = smallCnnEncoder({ channels: [2, 2, 2], seed: 1 });
    await assert.rejects(saveModelFolder("", encoder), /saveModelFolder: dir must be a folder path, got ""/);
    await assert.rejects(saveModelFolder(dir, {} as tf.LayersModel), /saveModelFolder: model must be a tf.LayersModel/);
    await assert.rejects(saveModelFolder(dir, encoder, [1] as unknown as object as never), /saveModelFolder: metadata must be a JSON object, got \[1\]/);
    await assert.rejects(loadModelFolder(path.join(dir, "absent")), /loadModelFolder: dir must hold model.json, got none in '.*absent'/);
    await saveModelFolder(dir, encoder);
    rmSync(path.join(dir, MODEL_WEIGHTS));
    await assert.rejects(loadModelFolder(dir), /loadModelFolder: .*model.json names weights file '.\/weights.bin', which is missing/);
    writeFileSync(path.join(dir, MODEL_JSON), "{not json");
    await assert.rejects(loadModelFolder(dir), /loadModelFolder: .*model.json is not valid JSON/);
    assert.equal(existsSync(dir), true);
    encoder.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
