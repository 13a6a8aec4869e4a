/**
 * The numbers of the data card data/synthetic-recordings.md, computed from
 * the generator: its instruments, chord qualities and defaults, and a
 * fingerprint of the notebook's training split (SEED 1). Same scheme as
 * card_stats.ts: `syntheticRecordingsBlocks()` returns the generated blocks
 * by name, and cards_test.ts compares them with the card once the card is
 * registered in `CARDS`.
 */
import * as crypto from "crypto";
import { CHORD_QUALITIES, INSTRUMENTS, midiToHz, syntheticRecordings } from "../../src/data/synthetic_recordings";

const fmt = (n: number): string => n.toLocaleString("en-US");

/** The split the card fingerprints: the training recordings of notebook 05 with SEED = 1. */
export const CARD_SPLIT = { count: 512, seed: 1001 } as const;

/** Generated blocks of data/synthetic-recordings.md, by name. */
export function syntheticRecordingsBlocks(): Record<string, string> {
  const instruments = [
    "| label | instrument | partial amplitudes (1, 2, 3, ...) | attack s | decay s | sustain | release s | plucked decay s | breath noise |",
    "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ...INSTRUMENTS.map((s, i) =>
      `| ${i} | ${s.name} | ${s.partials.join(", ")} | ${s.attack} | ${s.decay} | ${s.pluckDecay === undefined ? s.sustain : "-"} | ${s.release} | ${s.pluckDecay ?? "-"} | ${s.breath} |`),
  ].join("\n");
  const qualities = [
    "| label | chord quality | semitones above the root |",
    "|---:|---|---|",
    ...CHORD_QUALITIES.map((q, i) => `| ${i} | ${q.name} | ${q.intervals.join(", ")} |`),
  ].join("\n");
  const rec = syntheticRecordings(CARD_SPLIT);
  const counts = (labels: Int32Array, n: number) => Array.from({ length: n }, (_, k) => labels.reduce((c, v) => c + (v === k ? 1 : 0), 0));
  const byInstrument = counts(rec.instrument, INSTRUMENTS.length);
  const byQuality = counts(rec.quality, CHORD_QUALITIES.length);
  const roots = Array.from(rec.root);
  let peak = 0, squares = 0;
  for (const v of rec.waves) { peak = Math.max(peak, Math.abs(v)); squares += v * v; }
  const digest = crypto.createHash("sha256").update(Buffer.from(rec.waves.buffer, rec.waves.byteOffset, rec.waves.byteLength)).digest("hex");
  const fingerprint = [
    `\`syntheticRecordings({ count: ${CARD_SPLIT.count}, seed: ${CARD_SPLIT.seed} })\`: ${fmt(rec.count)} recordings of ${fmt(rec.samples)} samples at ${fmt(rec.sampleRate)} Hz.`,
    "",
    `- per instrument: ${rec.instrumentNames.map((n, k) => `${n} ${byInstrument[k]}`).join(", ")}`,
    `- per chord quality: ${rec.qualityNames.map((n, k) => `${n} ${byQuality[k]}`).join(", ")}`,
    `- roots: MIDI ${Math.min(...roots)} to ${Math.max(...roots)} (${midiToHz(Math.min(...roots)).toFixed(1)} to ${midiToHz(Math.max(...roots)).toFixed(1)} Hz), mean ${(roots.reduce((a, b) => a + b, 0) / roots.length).toFixed(2)}`,
    `- largest |sample| ${peak.toFixed(4)}, RMS ${Math.sqrt(squares / rec.waves.length).toFixed(4)}`,
    `- SHA-256 of the float32 samples (little-endian, recording after recording): \`${digest}\``,
  ].join("\n");
  return { "recordings-instruments": instruments, "recordings-qualities": qualities, "recordings-fingerprint": fingerprint };
}

if (require.main === module) {
  for (const [name, text] of Object.entries(syntheticRecordingsBlocks())) console.log(`<!-- generated:${name} -->\n${text}\n<!-- /generated:${name} -->\n`);
}
