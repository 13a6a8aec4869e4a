/**
 * What the MI-bound tests share: the three bounds of Poole et al. (2019)
 * written out in float64 from their equations, random score matrices, and
 * one check of a bound's value (cpu and wasm), gradient (central finite
 * differences of the reference, cpu) and memory.
 */
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import type { Rng } from "../../src/data/random";
import { onWasm } from "../methods/vision/helpers";

const logSumExp = (xs: number[]): number => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, v) => s + Math.exp(v - m), 0));
};
const meanDiagonal = (s: number[][]): number => s.reduce((t, row, i) => t + row[i], 0) / s.length;
const offDiagonal = (s: number[][]): number[] => s.flatMap((row, i) => row.filter((_, j) => j !== i));

/** I_NCE = log K + 1/K sum_i [s_ii - log sum_j exp s_ij], float64. */
export const infoNceReference = (s: number[][]): number =>
  Math.log(s.length) + s.reduce((t, row, i) => t + row[i] - logSumExp(row), 0) / s.length;

/** I_NWJ = mean_i s_ii - e^-1 mean_{i != j} exp s_ij, float64. */
export const nwjReference = (s: number[][]): number => {
  const off = offDiagonal(s);
  return meanDiagonal(s) - Math.exp(-1) * off.reduce((t, v) => t + Math.exp(v), 0) / off.length;
};

/** I_DV = mean_i s_ii - log mean_{i != j} exp s_ij, float64. */
export const dvReference = (s: number[][]): number => {
  const off = offDiagonal(s);
  return meanDiagonal(s) - (logSumExp(off) - Math.log(off.length));
};

/** A `[k, k]` score matrix of N(0, scale^2) draws, positives raised by `shift`. */
export function randomScores(rng: Rng, k: number, scale = 1, shift = 0): number[][] {
  return Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => rng.normal() * scale + (i === j ? shift : 0)));
}

/**
 * Asserts that `bound` matches `reference` to 1e-5 (relative above 1) on
 * cpu and wasm for several K and scales, that its gradient matches central
 * finite differences of the reference on cpu to 1e-4, and that a call
 * leaves exactly one tensor (its result).
 */
export async function checkBoundAgainstReference(
  bound: (s: tf.Tensor2D) => tf.Scalar,
  reference: (s: number[][]) => number,
  rng: Rng,
): Promise<void> {
  const cases = [[2, 1, 0], [5, 1, 1], [16, 2, 3], [33, 0.5, 0], [8, 10, 20]] as const;
  const inputs = cases.map(([k, scale, shift]) => randomScores(rng, k, scale, shift));
  const values = async (backend: string) => {
    for (const s of inputs) {
      const t = tf.tensor2d(s);
      const before = tf.memory().numTensors;
      const got = bound(t);
      assert.equal(tf.memory().numTensors, before + 1, `${backend}: one tensor out`);
      const want = reference(s);
      const value = got.dataSync()[0];
      assert.ok(Math.abs(value - want) <= 1e-5 * Math.max(1, Math.abs(want)), `${backend} K=${s.length}: got ${value}, want ${want}`);
      tf.dispose([t, got]);
    }
  };
  await tf.setBackend("cpu");
  await values("cpu");
  await onWasm(() => values("wasm"));

  for (const s of inputs.slice(0, 3)) {
    const t = tf.tensor2d(s);
    const grad = tf.grad((x: tf.Tensor) => bound(x as tf.Tensor2D))(t).arraySync() as number[][];
    const h = 1e-6;
    let maxErr = 0;
    let maxRef = 0;
    s.forEach((row, i) => row.forEach((_, j) => {
      const plus = s.map((r) => [...r]);
      const minus = s.map((r) => [...r]);
      plus[i][j] += h;
      minus[i][j] -= h;
      const fd = (reference(plus) - reference(minus)) / (2 * h);
      maxErr = Math.max(maxErr, Math.abs(grad[i][j] - fd));
      maxRef = Math.max(maxRef, Math.abs(fd));
    }));
    assert.ok(maxRef > 1e-3, "the reference gradient should not vanish");
    assert.ok(maxErr <= 1e-4 * Math.max(1, maxRef), `K=${s.length}: max gradient error ${maxErr}`);
    tf.dispose(t);
  }
}

/** Asserts that `bound` rejects non-square, too small, wrongly typed or ranked scores, naming `name`. */
export function checkBoundRejectsBadScores(bound: (s: tf.Tensor2D) => tf.Scalar, name: string): void {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => bound(tf.zeros([3]) as unknown as tf.Tensor2D), new RegExp(`${name}: scores must be a square float32 tensor \\[K,K\\] with K >= 2, got a float32 tensor of shape \\[3\\]`)],
    [() => bound(tf.zeros([3, 4]) as tf.Tensor2D), new RegExp(`${name}: scores must be a square float32 tensor \\[K,K\\] with K >= 2, got a float32 tensor of shape \\[3,4\\]`)],
    [() => bound(tf.zeros([1, 1]) as tf.Tensor2D), new RegExp(`${name}: scores must be a square .* got a float32 tensor of shape \\[1,1\\]`)],
    [() => bound(tf.zeros([3, 3], "int32") as tf.Tensor2D), new RegExp(`${name}: scores must be a square .* got an int32 tensor of shape \\[3,3\\]`)],
    [() => bound(undefined as unknown as tf.Tensor2D), new RegExp(`${name}: scores must be .* got undefined`)],
  ];
  for (const [call, message] of cases) assert.throws(call, message);
}
