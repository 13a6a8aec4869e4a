/**
 * The numbers of the data card data/moving-digits.md, computed from the
 * generator (same scheme as card_stats.ts: `<!-- generated:NAME -->` blocks
 * that cards_test.ts recomputes once the card is listed in CARDS).
 */
import * as crypto from "crypto";
import { loadMnist } from "../../src/data/mnist";
import { movingDigitClips, type MovingDigitsPhysics } from "../../src/data/moving_digits";

const CLIPS = 500;
const FRAMES = 12;

/** The physics settings the card measures, by name. */
const SETTINGS: readonly [string, MovingDigitsPhysics][] = [
  ["elastic (friction 0, gravity 0, restitution 1)", {}],
  ["gravity 0.3, elastic", { gravity: 0.3 }],
  ["friction 0.2", { friction: 0.2 }],
  ["restitution 0.5", { restitution: 0.5 }],
  ["friction 0.2, restitution 0.5 (notebook 05's dissipative clips)", { friction: 0.2, restitution: 0.5 }],
  ["gravity 0.3, restitution 0.5", { gravity: 0.3, restitution: 0.5 }],
];

const f3 = (v: number): string => v.toFixed(3);

/** Generated blocks of data/moving-digits.md, by name. */
export function movingDigitsBlocks(): Record<string, string> {
  const { test } = loadMnist();
  const rows = SETTINGS.map(([name, physics]) => {
    const clips = movingDigitClips(test, { seed: 1, clips: CLIPS, frames: FRAMES, ...physics });
    const meanAt = (values: ArrayLike<number>, t: number) => {
      let s = 0;
      for (let c = 0; c < CLIPS; c++) s += values[c * FRAMES + t];
      return s / CLIPS;
    };
    const speeds = Float64Array.from({ length: CLIPS * FRAMES }, (_, k) => Math.hypot(clips.velocities[2 * k], clips.velocities[2 * k + 1]));
    let drift = 0;
    let rising = 0;
    for (let c = 0; c < CLIPS; c++) {
      const e0 = clips.energies[c * FRAMES];
      for (let t = 1; t < FRAMES; t++) {
        const e = clips.energies[c * FRAMES + t];
        drift = Math.max(drift, Math.abs(e - e0) / e0);
        if (e > clips.energies[c * FRAMES + t - 1] * (1 + 1e-6)) rising++;
      }
    }
    return `| ${name} | ${f3(meanAt(clips.energies, 0))} | ${f3(meanAt(clips.energies, 5))} | ${f3(meanAt(clips.energies, FRAMES - 1))} | ` +
      `${drift.toExponential(1)} | ${rising} | ${f3(meanAt(speeds, 0))} | ${f3(meanAt(speeds, FRAMES - 1))} | ${f3(meanAt(clips.bounces, FRAMES - 1))} |`;
  });
  const physics = [
    `Measured on ${CLIPS} clips of ${FRAMES} frames (seed 1, digits of the MNIST test pool, default frame 28, sprite 14, velocityStd 2).`,
    "",
    "| physics | mean E, frame 0 | frame 5 | frame 11 | largest relative change of E in a clip | frames where E rose | mean speed, frame 0 | frame 11 | bounces per clip |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows,
  ].join("\n");

  const small = movingDigitClips(test, { seed: 1, clips: 8, frames: 6 });
  const bytes = new Uint8Array(small.frames.buffer, small.frames.byteOffset, small.frames.byteLength);
  const fingerprint = [
    `- \`movingDigitClips(loadMnist().test, { seed: 1, clips: 8, frames: 6 })\`: frames (float32, little-endian bytes) SHA-256 \`${crypto.createHash("sha256").update(bytes).digest("hex")}\``,
    `- its source rows: ${Array.from(small.sources).join(", ")}; digits: ${Array.from(small.digits).join(", ")}`,
    `- clip 0 starts at (x, y) = (${f3(small.positions[0])}, ${f3(small.positions[1])}) with velocity (${f3(small.velocities[0])}, ${f3(small.velocities[1])})`,
  ].join("\n");
  return { "moving-digits-physics": physics, "moving-digits-fingerprint": fingerprint };
}

if (require.main === module) {
  for (const [name, text] of Object.entries(movingDigitsBlocks())) console.log(`<!-- generated:${name} -->\n${text}\n<!-- /generated:${name} -->\n`);
}
