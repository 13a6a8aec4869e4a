import { test } from "node:test";
import assert from "node:assert/strict";
import { loadMnist } from "../../src/data/mnist";
import { frameDigits, movingDigitClips, positionBins, renderClipView, type MovingDigitClips } from "../../src/data/moving_digits";

const digits = loadMnist({ trainSize: 200, testSize: 1 }).train;
const LO = 7, HI = 21; // the sprite centre's range in a 28-pixel frame with a 14-pixel sprite

/** Energies of clip c, float64. */
const energiesOf = (clips: MovingDigitClips, c: number): number[] => Array.from(clips.energies.subarray(c * clips.shape[1], (c + 1) * clips.shape[1]));

test("movingDigitClips: shapes, labels, the sprite is the 2x2 area mean of the digit, determinism under the seed", () => {
  const a = movingDigitClips(digits, { seed: 3, clips: 5, frames: 4 });
  assert.deepEqual(a.shape, [5, 4, 28, 28, 1]);
  assert.equal(a.frames.length, 5 * 4 * 784);
  assert.equal(a.positions.length, 5 * 4 * 2);
  assert.equal(a.energies.length, 20);
  assert.deepEqual(a.settings, { seed: 3, clips: 5, frames: 4, frameSize: 28, digitSize: 14, velocityStd: 2, friction: 0, gravity: 0, restitution: 1 });
  for (let c = 0; c < 5; c++) {
    assert.equal(a.digits[c], digits.labels[a.sources[c]]);
    const img = digits.images.subarray(a.sources[c] * 784, (a.sources[c] + 1) * 784);
    for (const [p, q] of [[3, 4], [7, 7], [10, 2]]) {
      const mean = (img[2 * p * 28 + 2 * q] + img[2 * p * 28 + 2 * q + 1] + img[(2 * p + 1) * 28 + 2 * q] + img[(2 * p + 1) * 28 + 2 * q + 1]) / 4;
      assert.ok(Math.abs(a.sprites[c * 196 + p * 14 + q] - mean) < 1e-6, `sprite ${c} pixel (${p}, ${q})`);
    }
  }
  const b = movingDigitClips(digits, { seed: 3, clips: 5, frames: 4 });
  assert.deepEqual(b.frames, a.frames);
  assert.deepEqual(b.positions, a.positions);
  assert.deepEqual(b.sources, a.sources);
  const other = movingDigitClips(digits, { seed: 4, clips: 5, frames: 4 });
  assert.notDeepEqual(other.positions, a.positions);
  const chosen = movingDigitClips(digits, { seed: 3, clips: 2, frames: 3, sources: [7, 9] });
  assert.deepEqual(Array.from(chosen.sources), [7, 9]);
  assert.deepEqual(Array.from(chosen.digits), [digits.labels[7], digits.labels[9]]);
});

test("movingDigitClips: bilinear placement keeps the sprite's ink (inside the frame), and frames stay in [0, 1]", () => {
  const clips = movingDigitClips(digits, { seed: 5, clips: 6, frames: 5 });
  for (let c = 0; c < 6; c++) {
    const ink = clips.sprites.subarray(c * 196, (c + 1) * 196).reduce((s, v) => s + v, 0);
    for (let t = 0; t < 5; t++) {
      const frame = clips.frames.subarray((c * 5 + t) * 784, (c * 5 + t + 1) * 784);
      const sum = frame.reduce((s, v) => s + v, 0);
      // Bilinear weights of a shifted grid sum to 1 per sprite pixel; MNIST's blank border keeps the ink inside.
      assert.ok(Math.abs(sum - ink) < 1e-3 * ink, `clip ${c} frame ${t}: ${sum} vs ${ink}`);
      assert.ok(frame.every((v) => v >= 0 && v <= 1 + 1e-6));
    }
  }
});

test("movingDigitClips: with friction 0 and restitution 1 energy is conserved (with and without gravity) and digits stay inside", () => {
  for (const gravity of [0, 0.5]) {
    const clips = movingDigitClips(digits, { seed: 1, clips: 40, frames: 12, gravity });
    let bounced = 0;
    for (let c = 0; c < 40; c++) {
      const e = energiesOf(clips, c);
      // Event-driven flight is exact; the tolerance covers float32 storage.
      for (const v of e) assert.ok(Math.abs(v - e[0]) <= 1e-5 * e[0], `gravity ${gravity}, clip ${c}: ${e}`);
      // Energy recomputed from the stored state, float64.
      for (let t = 0; t < 12; t++) {
        const k = c * 12 + t;
        const [vx, vy] = [clips.velocities[2 * k], clips.velocities[2 * k + 1]];
        const ref = 0.5 * (vx * vx + vy * vy) + gravity * (HI - clips.positions[2 * k + 1]);
        assert.ok(Math.abs(ref - e[t]) < 1e-4 * Math.max(1, e[0]));
      }
      if (clips.bounces[c * 12 + 11] > 0) bounced++;
    }
    assert.ok(bounced > 10, `clips with a bounce: ${bounced}`);
    assert.ok(clips.positions.every((p) => p >= LO - 1e-4 && p <= HI + 1e-4), "every centre inside the walls");
  }
});

test("movingDigitClips: friction loses energy every frame; inelastic bounces lose it exactly when a bounce happens", () => {
  const friction = movingDigitClips(digits, { seed: 2, clips: 30, frames: 10, friction: 0.1 });
  for (let c = 0; c < 30; c++) {
    const e = energiesOf(friction, c);
    for (let t = 1; t < 10; t++) assert.ok(e[t] < e[t - 1], `friction, clip ${c}: ${e}`);
    // Speed shrinks by exactly (1 - friction) per frame (bounces keep it at restitution 1).
    assert.ok(Math.abs(e[9] / e[0] - 0.9 ** 18) < 1e-4, `clip ${c}: ${e[9] / e[0]}`);
  }
  const inelastic = movingDigitClips(digits, { seed: 2, clips: 30, frames: 10, restitution: 0.5 });
  let lossy = 0;
  for (let c = 0; c < 30; c++) {
    const e = energiesOf(inelastic, c);
    for (let t = 1; t < 10; t++) {
      const bounced = inelastic.bounces[c * 10 + t] > inelastic.bounces[c * 10 + t - 1];
      if (bounced) { assert.ok(e[t] < e[t - 1] * (1 - 1e-4), `clip ${c} frame ${t}: a bounce must lose energy`); lossy++; }
      else assert.ok(Math.abs(e[t] - e[t - 1]) <= 1e-5 * e[0], `clip ${c} frame ${t}: no bounce, no loss`);
    }
  }
  assert.ok(lossy > 10, `inelastic bounces seen: ${lossy}`);
  const settling = movingDigitClips(digits, { seed: 2, clips: 20, frames: 40, gravity: 0.5, restitution: 0.5 });
  for (let c = 0; c < 20; c++) {
    const e = energiesOf(settling, c);
    for (let t = 1; t < 40; t++) assert.ok(e[t] <= e[t - 1] + 1e-5 * e[0], `gravity and restitution 0.5, clip ${c}: ${e}`);
    assert.ok(e[39] < 0.5 * e[0], `clip ${c} settles: ${e[0]} -> ${e[39]}`);
  }
  assert.ok(settling.positions.every((p) => p >= LO - 1e-4 && p <= HI + 1e-4));
});

test("movingDigitClips: conservative clips are time-symmetric in distribution, dissipative ones are not", () => {
  // The initial state is Maxwell-Boltzmann, which the conservative motion keeps: the last frame's
  // state (its velocity negated, as a reversed clip starts) has the first frame's statistics.
  const stats = (clips: MovingDigitClips, t: number) => {
    const [n, frames] = clips.shape;
    let speed = 0, height = 0;
    for (let c = 0; c < n; c++) {
      const k = c * frames + t;
      speed += Math.hypot(clips.velocities[2 * k], clips.velocities[2 * k + 1]) / n;
      height += (HI - clips.positions[2 * k + 1]) / n;
    }
    return { speed, height };
  };
  for (const gravity of [0, 0.3]) {
    const clips = movingDigitClips(digits, { seed: 9, clips: 3000, frames: 10, gravity });
    const first = stats(clips, 0), last = stats(clips, 9);
    assert.ok(Math.abs(last.speed / first.speed - 1) < 0.03, `gravity ${gravity}: mean speed ${first.speed} -> ${last.speed}`);
    assert.ok(Math.abs(last.height - first.height) < 0.3, `gravity ${gravity}: mean height ${first.height} -> ${last.height}`);
  }
  const damped = movingDigitClips(digits, { seed: 9, clips: 3000, frames: 10, restitution: 0.5 });
  assert.ok(stats(damped, 9).speed < 0.8 * stats(damped, 0).speed);
});

test("renderClipView: the default view is the clips' frames; zoom, blur and noise as documented", () => {
  const clips = movingDigitClips(digits, { seed: 4, clips: 3, frames: 3 });
  const same = renderClipView(clips);
  assert.deepEqual(same, clips.frames);
  const zoomed = renderClipView(clips, { zoom: 0.5 });
  // At zoom 0.5 the ink shrinks to about a quarter (bilinear sampling of a minified sprite).
  const ink = (x: Float32Array, k: number) => x.subarray(k * 784, (k + 1) * 784).reduce((s, v) => s + v, 0);
  for (let k = 0; k < 9; k++) assert.ok(Math.abs(ink(zoomed, k) / ink(clips.frames, k) - 0.25) < 0.05, `frame ${k}: ${ink(zoomed, k) / ink(clips.frames, k)}`);
  const blurred = renderClipView(clips, { blur: 1 });
  for (let k = 0; k < 9; k++) assert.ok(Math.abs(ink(blurred, k) - ink(clips.frames, k)) < 1e-3 * ink(clips.frames, k), "a blur away from the border keeps the ink");
  const maxOf = (x: Float32Array) => x.reduce((m, v) => Math.max(m, v), 0);
  assert.ok(maxOf(blurred) < maxOf(clips.frames));
  const noisy1 = renderClipView(clips, { noise: 0.1, seed: 2 }), noisy2 = renderClipView(clips, { noise: 0.1, seed: 2 });
  assert.deepEqual(noisy1, noisy2);
  assert.notDeepEqual(renderClipView(clips, { noise: 0.1, seed: 3 }), noisy1);
  assert.ok(noisy1.every((v) => v >= 0 && v <= 1), "noise is clamped to [0, 1]");
  assert.throws(() => renderClipView(clips, { zoom: 1.5 }), /renderClipView: view.zoom must be a number in \(0, 1\], got 1.5/);
  assert.throws(() => renderClipView(clips, { blur: -1 }), /renderClipView: view.blur must be a finite number >= 0, got -1/);
  assert.throws(() => renderClipView({ frames: [] } as never), /renderClipView: clips must be the output of movingDigitClips/);
});

test("positionBins and frameDigits match a float64 reference", () => {
  const clips = movingDigitClips(digits, { seed: 6, clips: 20, frames: 6, velocityStd: 4 });
  const bins = positionBins(clips, 3);
  const seen = new Set<number>();
  for (let k = 0; k < 120; k++) {
    const cell = (v: number) => Math.min(2, Math.floor(((v - LO) / (HI - LO)) * 3));
    assert.equal(bins[k], cell(clips.positions[2 * k + 1]) * 3 + cell(clips.positions[2 * k]));
    seen.add(bins[k]);
  }
  assert.ok(seen.size >= 7, `cells used: ${[...seen]}`);
  const labels = frameDigits(clips);
  for (let k = 0; k < 120; k++) assert.equal(labels[k], clips.digits[Math.floor(k / 6)]);
  assert.throws(() => positionBins(clips, 0), /positionBins: bins must be a positive integer, got 0/);
});

test("movingDigitClips rejects bad options", () => {
  const base = { seed: 1, clips: 2, frames: 3 };
  const bad: Array<[object, RegExp]> = [
    [{ ...base, seed: 0.5 }, /movingDigitClips: options.seed must be an integer, got 0.5/],
    [{ ...base, clips: 0 }, /movingDigitClips: options.clips must be a positive integer, got 0/],
    [{ ...base, frames: 1 }, /movingDigitClips: options.frames must be an integer in \[2, \d+\], got 1/],
    [{ ...base, digitSize: 28 }, /movingDigitClips: options.digitSize must be an integer in \[1, 28\), got 28/],
    [{ ...base, friction: 1 }, /movingDigitClips: options.friction must be a number in \[0, 1\), got 1/],
    [{ ...base, gravity: -0.1 }, /movingDigitClips: options.gravity must be a finite number >= 0, got -0.1/],
    [{ ...base, restitution: 1.2 }, /movingDigitClips: options.restitution must be a number in \[0, 1\], got 1.2/],
    [{ ...base, velocityStd: 0 }, /movingDigitClips: options.velocityStd must be a finite number > 0, got 0/],
    [{ ...base, sources: [1] }, /movingDigitClips: options.sources must hold one row of set per clip \(2\), got \[1\]/],
    [{ ...base, sources: [1, 200] }, /movingDigitClips: options.sources\[1\] must be an integer in \[0, 200\), got 200/],
  ];
  for (const [options, message] of bad) assert.throws(() => movingDigitClips(digits, options as never), message);
  assert.throws(() => movingDigitClips(digits, undefined as never), /movingDigitClips: options must be an object/);
});
