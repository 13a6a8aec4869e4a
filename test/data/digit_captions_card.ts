/**
 * The numbers of the data card data/digit-captions.md, computed from the
 * MNIST pools and the caption generator (src/data/digit_captions.ts), in
 * the scheme of card_stats.ts: each block sits between
 * `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`, and
 * cards_test.ts recomputes it once this generator is listed in CARDS.
 */
import * as crypto from "crypto";
import {
  ATTRIBUTE_WORDS,
  CAPTION_TEMPLATES,
  DIGIT_NAMES,
  captionTokenizer,
  describeDigits,
  fitAttributeBuckets,
  measureDigits,
  promptsForDigit,
  renderCaption,
  sampleCaptions,
  TRAIN_TEMPLATES,
  type DigitDescription,
} from "../../src/data/digit_captions";
import { loadMnist } from "../../src/data/mnist";

const fmt = (n: number): string => n.toLocaleString("en-US");
const pct = (part: number, whole: number): string => `${((100 * part) / whole).toFixed(1)}%`;
const degrees = (slant: number): string => `${((Math.atan(slant) * 180) / Math.PI).toFixed(1)}°`;

/** Generated blocks of data/digit-captions.md, by name. */
export function digitCaptionsBlocks(): Record<string, string> {
  const { train, test } = loadMnist();
  const trainMeasured = measureDigits(train);
  const testMeasured = measureDigits(test);
  const buckets = fitAttributeBuckets(trainMeasured);
  const trainWords = describeDigits(trainMeasured, buckets);
  const testWords = describeDigits(testMeasured, buckets);

  const thresholds = [
    "| attribute | words | threshold (fitted on the 8,000 training digits) |",
    "|---|---|---|",
    `| width | narrow / wide | the class's median width, pixels: ${buckets.widthMedianByDigit.map((w, d) => `${d}: ${w}`).join(", ")} |`,
    `| slant | left / upright / right | tertiles ${buckets.slantTertiles[0].toFixed(4)} (${degrees(buckets.slantTertiles[0])}) and ${buckets.slantTertiles[1].toFixed(4)} (${degrees(buckets.slantTertiles[1])}) |`,
    `| thickness | thin / thick | median ${buckets.thicknessMedian.toFixed(4)} pixels |`,
  ].join("\n");

  const shareRows = (key: "width" | "slant" | "thickness") =>
    ATTRIBUTE_WORDS[key].map((word) => {
      const a = trainWords.filter((w) => w[key] === word).length;
      const b = testWords.filter((w) => w[key] === word).length;
      return `| ${key} | ${word} | ${fmt(a)} (${pct(a, train.n)}) | ${fmt(b)} (${pct(b, test.n)}) |`;
    });
  const words = [
    "| attribute | word | train pool | test pool |",
    "|---|---|---:|---:|",
    ...shareRows("width"),
    ...shareRows("slant"),
    ...shareRows("thickness"),
  ].join("\n");

  const example: DigitDescription = { digit: 7, width: "wide", slant: "left", thickness: "thick" };
  const templates = [
    "| id | template | split | prompts per class | example (a wide, thick seven leaning left) |",
    "|---:|---|---|---:|---|",
    ...CAPTION_TEMPLATES.map((t) => `| ${t.id} | \`${t.text}\` | ${t.split} | ${promptsForDigit(t, 7).length} | ${renderCaption(t, example)} |`),
  ].join("\n");

  const tokenizer = captionTokenizer();
  const vocabulary = [
    `- ${tokenizer.size} ids: \`${tokenizer.words[0]}\` (0), then ${tokenizer.words.slice(1).map((w) => `\`${w}\``).join(", ")}.`,
    `- Captions are padded to ${tokenizer.maxLength} tokens. ${DIGIT_NAMES.length} digit names; the held-out words ` +
      `${[...new Set(CAPTION_TEMPLATES.filter((t) => t.split === "heldOut").flatMap((t) => t.text.split(" ")))].filter((w) => !TRAIN_TEMPLATES.some((t) => t.text.split(" ").includes(w))).map((w) => `\`${w}\``).join(", ")} occur in no training template.`,
  ].join("\n");

  const bytes = (a: Float64Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const digest = (m: typeof trainMeasured): string => {
    const h = crypto.createHash("sha256");
    for (const a of [m.width, m.slant, m.thickness]) h.update(bytes(a));
    return h.digest("hex");
  };
  const firstCaptions = sampleCaptions(testWords.slice(0, 5), TRAIN_TEMPLATES, { seed: 1, epoch: 0 });
  const fingerprint = [
    `- train measurements (width, slant, thickness as float64 little-endian bytes): SHA-256 \`${digest(trainMeasured)}\``,
    `- test measurements: SHA-256 \`${digest(testMeasured)}\``,
    `- first test captions, \`sampleCaptions(words, TRAIN_TEMPLATES, { seed: 1, epoch: 0 })\`: ${firstCaptions.map((c) => `"${c}"`).join("; ")}`,
  ].join("\n");

  return {
    "digit-captions-thresholds": thresholds,
    "digit-captions-words": words,
    "digit-captions-templates": templates,
    "digit-captions-vocabulary": vocabulary,
    "digit-captions-fingerprint": fingerprint,
  };
}

if (require.main === module) {
  for (const [name, text] of Object.entries(digitCaptionsBlocks())) console.log(`<!-- generated:${name} -->\n${text}\n<!-- /generated:${name} -->\n`);
}
