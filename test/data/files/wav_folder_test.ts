import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import * as wav from "node-wav";
import { syntheticRecordings } from "../../../src/data/synthetic_recordings";
import { readWavFolder, resampleLinear, writeWavFolder } from "../../../src/data/files/wav_folder";
import { withTempDir } from "./temp_dir";

/** A 16-bit PCM WAV file written by hand (RIFF header per the WAVE spec), independent of node-wav's encoder. */
function pcm16File(channels: number[][], sampleRate: number): Buffer {
  const frames = channels[0].length;
  const data = Buffer.alloc(frames * channels.length * 2);
  for (let i = 0; i < frames; i++) channels.forEach((ch, c) => data.writeInt16LE(ch[i], (i * channels.length + c) * 2));
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + data.length, 4);
  header.write("WAVEfmt ", 8, "ascii");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels.length, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels.length * 2, 28);
  header.writeUInt16LE(channels.length * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "ascii");
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

const toFloat = (v: number) => (v < 0 ? v / 32768 : v / 32767);

test("WAV round trip of synthetic recordings: 16-bit PCM back within 1/32767, labels and class folders", async () => {
  await withTempDir((dir) => {
    const rec = syntheticRecordings({ count: 6, seed: 3, sampleRate: 4000, duration: 0.05 });
    const classNames = rec.qualityNames.map((q, i) => `${i}_${q}`);
    writeWavFolder(dir, { ...rec, labels: rec.quality, classNames });
    const back = readWavFolder(dir);
    assert.equal(back.count, 6);
    assert.equal(back.samples, rec.samples);
    assert.equal(back.sampleRate, 4000);
    assert.deepEqual(back.skipped, []);
    const used = [...new Set(rec.quality)].sort((a, b) => a - b);
    assert.deepEqual(back.classNames, used.map((q) => classNames[q]));
    const order = Array.from(rec.quality, (_, i) => i).sort((a, b) => rec.quality[a] - rec.quality[b] || a - b);
    assert.deepEqual(Array.from(back.labels), order.map((i) => used.indexOf(rec.quality[i])));
    let max = 0;
    order.forEach((i, j) => {
      for (let t = 0; t < rec.samples; t++) max = Math.max(max, Math.abs(back.waves[j * back.samples + t] - rec.waves[i * rec.samples + t]));
    });
    assert.ok(max <= 1 / 32767, `max error ${max * 32767}/32767`);
    assert.ok(back.durations.every((d) => Math.abs(d - 0.05) < 1e-12));
  });
});

test("readWavFolder: stereo averaged to mono, values as 16-bit integers / 32768 or 32767, unlabelled root", async () => {
  await withTempDir((dir) => {
    const left = [0, 32767, -32768, 1000, -1];
    const right = [0, 32767, 0, -3000, -1];
    fs.writeFileSync(path.join(dir, "s.wav"), pcm16File([left, right], 8000));
    const set = readWavFolder(dir);
    assert.equal(set.labelled, false);
    assert.deepEqual(Array.from(set.labels), [-1]);
    assert.deepEqual(Array.from(set.waves), left.map((l, i) => Math.fround((Math.fround(toFloat(l)) + Math.fround(toFloat(right[i]))) / 2)));
  });
});

test("resampleLinear: hand-computed values; readWavFolder resamples to options.sampleRate and pads or trims to options.seconds", async () => {
  assert.deepEqual(Array.from(resampleLinear(new Float32Array([0, 1]), 1, 2)), [0, 0.5, 1, 1]);
  assert.deepEqual(Array.from(resampleLinear(new Float32Array([0, 0.25, 0.5, 0.75, 1, 0.5]), 4, 2)), [0, 0.5, 1]);
  assert.deepEqual(Array.from(resampleLinear(new Float32Array([0, 0.5, 1]), 3, 4)), [0, 0.375, 0.75, 1]);
  await withTempDir((dir) => {
    fs.mkdirSync(path.join(dir, "a"));
    fs.mkdirSync(path.join(dir, "b"));
    const ramp = Array.from({ length: 8 }, (_, i) => i * 1000);
    fs.writeFileSync(path.join(dir, "a", "slow.wav"), pcm16File([ramp], 4));
    fs.writeFileSync(path.join(dir, "b", "fast.wav"), pcm16File([ramp.slice(0, 6)], 8));
    const set = readWavFolder(dir, { sampleRate: 8, seconds: 1.25 });
    assert.equal(set.samples, 10);
    assert.deepEqual(set.classNames, ["a", "b"]);
    assert.deepEqual(Array.from(set.durations), [2, 0.75]);
    // 8 samples at 4 Hz -> 16 at 8 Hz, the ramp at half steps, cut to 10.
    const slow = Array.from({ length: 10 }, (_, j) => Math.fround((Math.min(j / 2, 7) * 1000) / 32767));
    set.waves.subarray(0, 10).forEach((v, j) => assert.ok(Math.abs(v - slow[j]) < 1e-6, `slow[${j}] ${v} vs ${slow[j]}`));
    // 6 samples at 8 Hz kept, then 4 zeros.
    assert.deepEqual(Array.from(set.waves.subarray(10)), [...ramp.slice(0, 6).map((v) => Math.fround(v / 32767)), 0, 0, 0, 0]);
  });
});

test("readWavFolder errors: mismatched rates and lengths name two files; missing folder; empty class; undecodable files skipped", async () => {
  await withTempDir((dir) => {
    const a = path.join(dir, "r", "a.wav");
    const b = path.join(dir, "r", "b.wav");
    fs.mkdirSync(path.join(dir, "r"));
    fs.writeFileSync(a, pcm16File([[1, 2, 3]], 8000));
    fs.writeFileSync(b, pcm16File([[1, 2, 3]], 16000));
    assert.throws(() => readWavFolder(path.join(dir, "r")), {
      message: `readWavFolder: files must share one sample rate unless options.sampleRate is given, got 8000 Hz for ${a} and 16000 Hz for ${b}`,
    });
    fs.writeFileSync(b, pcm16File([[1, 2, 3, 4]], 8000));
    assert.throws(() => readWavFolder(path.join(dir, "r")), {
      message: `readWavFolder: files must have one length unless options.seconds is given, got 3 samples for ${a} and 4 for ${b} (at 8000 Hz)`,
    });
    const missing = path.join(dir, "none");
    assert.throws(() => readWavFolder(missing), { message: `readWavFolder: root must be an existing folder, got ${JSON.stringify(missing)} (no such file or folder)` });
    const labelled = path.join(dir, "l");
    fs.mkdirSync(path.join(labelled, "dog"), { recursive: true });
    fs.mkdirSync(path.join(labelled, "cat"));
    fs.writeFileSync(path.join(labelled, "dog", "d.wav"), pcm16File([[5, 6]], 8000));
    fs.writeFileSync(path.join(labelled, "cat", "c.mp3"), "ID3");
    assert.throws(() => readWavFolder(labelled), { message: `readWavFolder: class folder ${JSON.stringify(path.join(labelled, "cat"))} holds no .wav file; remove it or add files` });
    fs.writeFileSync(path.join(labelled, "cat", "broken.wav"), "RIFF....WAVE");
    fs.writeFileSync(path.join(labelled, "cat", "ok.wav"), pcm16File([[7, 8]], 8000));
    const set = readWavFolder(labelled);
    assert.equal(set.count, 2);
    assert.deepEqual(set.skipped.map((s) => [path.basename(s.file), s.reason.split(":")[0]]), [
      ["c.mp3", 'unsupported extension ".mp3" (reads .wav)'],
      ["broken.wav", "not decodable"],
    ]);
  });
});

test("writeWavFolder errors: samples outside [-1, 1] are named, not clipped; length mismatch; and node-wav reads what it writes", async () => {
  await withTempDir((dir) => {
    const waves = Float32Array.from([0, 0.5, -0.5, 1.25]);
    assert.throws(() => writeWavFolder(path.join(dir, "o"), { waves, count: 2, samples: 2, sampleRate: 8000 }), {
      message: "writeWavFolder: recordings.waves must be in [-1, 1], got 1.25 in recording 1 at sample 1",
    });
    assert.throws(() => writeWavFolder(path.join(dir, "o"), { waves, count: 3, samples: 2, sampleRate: 8000 }), {
      message: "writeWavFolder: recordings.waves must be a Float32Array of length count*samples = 6, got a Float32Array of length 4",
    });
    writeWavFolder(path.join(dir, "ok"), { waves: Float32Array.from([0, 1, -1, 0.5]), count: 1, samples: 4, sampleRate: 22050 });
    const bytes = fs.readFileSync(path.join(dir, "ok", "0.wav"));
    assert.equal(bytes.readUInt16LE(34), 16);
    assert.deepEqual([0, 1, 2, 3].map((i) => bytes.readInt16LE(44 + 2 * i)), [0, 32767, -32768, 16383]);
    const decoded = wav.decode(new Uint8Array(bytes).buffer);
    assert.equal(decoded?.sampleRate, 22050);
  });
});
