import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CAPTION_TEMPLATES,
  HELD_OUT_TEMPLATES,
  TRAIN_TEMPLATES,
  captionTokenizer,
  describeDigits,
  fitAttributeBuckets,
  measureDigit,
  measureDigits,
  promptsForDigit,
  renderCaption,
  sampleCaptions,
  type DigitDescription,
  type DigitMeasurements,
} from "../../src/data/digit_captions";
import { loadMnist } from "../../src/data/mnist";

/** A blank 28x28 image with `pixels` [row, col] set to 1. */
function image(pixels: Array<[number, number]>): Float32Array {
  const img = new Float32Array(784);
  for (const [r, c] of pixels) img[r * 28 + c] = 1;
  return img;
}

/** The pixels of an axis-aligned rectangle. */
function rect(top: number, left: number, height: number, width: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let r = top; r < top + height; r++) for (let c = left; c < left + width; c++) out.push([r, c]);
  return out;
}

test("measureDigit: a bar's box width, zero slant, and thickness 2 * area / perimeter", () => {
  // 10 rows by 3 columns: area 30, perimeter 2 * (10 + 3) = 26.
  const bar = measureDigit(image(rect(5, 12, 10, 3)));
  assert.equal(bar.width, 3);
  assert.equal(bar.slant, 0);
  assert.ok(Math.abs(bar.thickness - 60 / 26) < 1e-12);
  // Ribbons of length 20: the measure grows with the stroke width (2 * 20w / (2 * (20 + w))).
  for (const w of [1, 2, 4]) {
    const ribbon = measureDigit(image(rect(4, 4, w, 20)));
    assert.ok(Math.abs(ribbon.thickness - (40 * w) / (40 + 2 * w)) < 1e-12, `w=${w}: ${ribbon.thickness}`);
    assert.equal(ribbon.width, 20);
  }
  // An offset into a larger array reads the right image.
  const two = new Float32Array(2 * 784);
  two.set(image(rect(0, 0, 2, 2)), 784);
  assert.equal(measureDigit(two, 784).width, 2);
});

test("measureDigit: a line whose column falls one per row going down leans right with slant exactly 1", () => {
  // Column = 20 - row: the top (small row) is to the right.
  const right = measureDigit(image(Array.from({ length: 12 }, (_, i) => [4 + i, 20 - (4 + i)] as [number, number])));
  assert.ok(Math.abs(right.slant - 1) < 1e-12, `${right.slant}`);
  const left = measureDigit(image(Array.from({ length: 12 }, (_, i) => [4 + i, 4 + i] as [number, number])));
  assert.ok(Math.abs(left.slant + 1) < 1e-12, `${left.slant}`);
  // Intensities below the ink threshold still weigh in the moments, not in the box.
  const faint = image(rect(5, 12, 10, 1));
  faint[5 * 28 + 20] = 0.4;
  const m = measureDigit(faint);
  assert.equal(m.width, 1);
  assert.ok(m.slant > 0);
});

test("measureDigit rejects an image without ink and bad arguments", () => {
  assert.throws(() => measureDigit(new Float32Array(784)), /measureDigit: the image at offset 0 must have a pixel > 0.5 \(ink\), got none/);
  assert.throws(() => measureDigit(new Float32Array(784), 1), /measureDigit: images must hold height\*width = 784 values from offset 1, got length 784/);
  assert.throws(() => measureDigit(new Float32Array(784), -1), /measureDigit: offset must be a non-negative integer, got -1/);
});

test("measureDigits on MNIST: float64 measurements of every digit, as measureDigit gives them", () => {
  const { train } = loadMnist({ trainSize: 500, testSize: 10 });
  const m = measureDigits(train);
  assert.equal(m.width.length, 500);
  assert.ok(m.width instanceof Float64Array && m.slant instanceof Float64Array && m.thickness instanceof Float64Array);
  assert.deepEqual(Array.from(m.digit), Array.from(train.labels));
  for (const i of [0, 17, 499]) assert.deepEqual({ width: m.width[i], slant: m.slant[i], thickness: m.thickness[i] }, measureDigit(train.images, i * 784));
  // MNIST digits fit a 20-pixel box, strokes are 1-4 pixels wide.
  assert.ok(m.width.every((w) => w >= 1 && w <= 20), "width within the 20-pixel box");
  assert.ok(m.thickness.every((t) => t > 0.5 && t < 6), "plausible stroke widths");
  assert.throws(() => measureDigits({ ...train, shape: [28, 28, 3] as never, images: new Float32Array(500 * 784 * 3) }), /measureDigits: set.shape must be \[height, width, 1\] \(greyscale\), got \[28,28,3\]/);
});

/** Measurements from plain arrays. */
function measurements(digit: number[], width: number[], slant: number[], thickness: number[]): DigitMeasurements {
  return { digit: Int32Array.from(digit), width: Float64Array.from(width), slant: Float64Array.from(slant), thickness: Float64Array.from(thickness) };
}

test("fitAttributeBuckets: per-class width medians, slant tertiles and thickness median; describeDigits applies them", () => {
  const digits = Array.from({ length: 30 }, (_, i) => i % 10);
  const width = digits.map((d, i) => d + Math.floor(i / 10)); // class d has widths d, d+1, d+2
  const slant = Array.from({ length: 30 }, (_, i) => i / 30);
  const thickness = Array.from({ length: 30 }, (_, i) => 1 + (i % 7));
  const m = measurements(digits, width, slant, thickness);
  const b = fitAttributeBuckets(m);
  assert.deepEqual(b.widthMedianByDigit, Array.from({ length: 10 }, (_, d) => d + 1));
  // Order statistics at floor(p * 29): 9 and 19.
  assert.deepEqual(b.slantTertiles, [9 / 30, 19 / 30]);
  assert.equal(b.thicknessMedian, [...thickness].sort((x, y) => x - y)[14]);
  const words = describeDigits(m, b);
  assert.deepEqual(words.slice(0, 1), [{ digit: 0, width: "narrow", slant: "left", thickness: "thin" }]);
  assert.equal(words.filter((w) => w.slant === "left").length, 9);
  assert.equal(words.filter((w) => w.slant === "upright").length, 10);
  assert.equal(words.filter((w) => w.slant === "right").length, 11);
  for (let i = 0; i < 30; i++) assert.equal(words[i].width, width[i] < digits[i] + 1 ? "narrow" : "wide");
  assert.throws(() => fitAttributeBuckets(measurements([0, 1], [1, 2], [0, 0], [1, 1])), /fitAttributeBuckets: measurements must hold every digit 0..9, got none of digit 2/);
  assert.throws(() => fitAttributeBuckets({ ...m, slant: new Float64Array(3) }), /fitAttributeBuckets: measurements.slant must be a Float64Array of length 30 \(like measurements.digit\), got a Float64Array of length 3/);
  assert.throws(() => describeDigits(measurements([11], [1], [0], [1]), b), /describeDigits: measurements.digit must hold digits 0..9, got 11 at index 0/);
});

test("the buckets split the MNIST training digits into the stated shares", () => {
  const { train } = loadMnist({ trainSize: 2000, testSize: 10 });
  const words = describeDigits(measureDigits(train), fitAttributeBuckets(measureDigits(train)));
  const share = (pick: (w: DigitDescription) => boolean) => words.filter(pick).length / words.length;
  // Quantile splits: about a half and about thirds (ties at integer widths move the width split).
  assert.ok(Math.abs(share((w) => w.thickness === "thin") - 0.5) < 0.01);
  for (const s of ["left", "upright", "right"] as const) assert.ok(Math.abs(share((w) => w.slant === s) - 1 / 3) < 0.01, s);
  assert.ok(share((w) => w.width === "narrow") > 0.25 && share((w) => w.width === "narrow") < 0.55);
});

test("templates: a fixed split, every slot filled, held-out words absent from training templates", () => {
  assert.equal(TRAIN_TEMPLATES.length + HELD_OUT_TEMPLATES.length, CAPTION_TEMPLATES.length);
  assert.deepEqual(CAPTION_TEMPLATES.map((t) => t.id), CAPTION_TEMPLATES.map((_, i) => i));
  const seven: DigitDescription = { digit: 7, width: "wide", slant: "left", thickness: "thick" };
  assert.deepEqual(CAPTION_TEMPLATES.map((t) => renderCaption(t, seven)), [
    "a thick seven leaning left",
    "the digit seven , wide and thick",
    "a wide thick seven leaning left",
    "a seven",
    "seven , leaning left",
    "the number seven",
    "a wide seven written thick",
    "seven , thick and wide",
  ]);
  const trainWords = new Set(TRAIN_TEMPLATES.flatMap((t) => t.text.split(" ")));
  assert.ok(!trainWords.has("number") && !trainWords.has("written"));
  assert.deepEqual(CAPTION_TEMPLATES.map((t) => promptsForDigit(t, 3).length), [6, 4, 12, 1, 3, 1, 4, 4]);
  assert.deepEqual(promptsForDigit(CAPTION_TEMPLATES[4], 1), ["one , leaning left", "one , upright", "one , leaning right"]);
  assert.throws(() => renderCaption(CAPTION_TEMPLATES[0], { ...seven, slant: "sideways" as never }), /renderCaption: description.slant must be one of "left", "upright", "right", got "sideways"/);
  assert.throws(() => renderCaption({ id: 9, text: "a {colour} {digit}", split: "train" }, seven), /renderCaption: template.text must use only the slots \{digit\}, \{width\}, \{slant\}, \{thickness\}, got \{colour\}/);
  assert.throws(() => promptsForDigit(CAPTION_TEMPLATES[0], 10), /promptsForDigit: digit must be an integer in \[0, 9\], got 10/);
});

test("sampleCaptions: seeded per epoch, uniform over the given templates, the digit's own words", () => {
  const words: DigitDescription[] = Array.from({ length: 3000 }, (_, i) => ({ digit: i % 10, width: "narrow", slant: "upright", thickness: "thin" }));
  const a = sampleCaptions(words, TRAIN_TEMPLATES, { seed: 1, epoch: 0 });
  assert.deepEqual(sampleCaptions(words, TRAIN_TEMPLATES, { seed: 1, epoch: 0 }), a);
  const b = sampleCaptions(words, TRAIN_TEMPLATES, { seed: 1, epoch: 1 });
  const c = sampleCaptions(words, TRAIN_TEMPLATES, { seed: 2, epoch: 0 });
  const differ = (x: string[], y: string[]) => x.filter((v, i) => v !== y[i]).length / x.length;
  // Two independent draws of 5 templates agree on a digit 1/5 of the time.
  assert.ok(Math.abs(differ(a, b) - 0.8) < 0.05 && Math.abs(differ(a, c) - 0.8) < 0.05);
  const trainTexts = TRAIN_TEMPLATES.map((t) => t.text);
  for (const [i, caption] of a.entries()) {
    const expected = TRAIN_TEMPLATES.map((t) => renderCaption(t, words[i]));
    assert.ok(expected.includes(caption), caption);
  }
  for (const t of TRAIN_TEMPLATES) {
    const share = a.filter((cap, i) => cap === renderCaption(t, words[i])).length / a.length;
    assert.ok(Math.abs(share - 1 / trainTexts.length) < 0.03, `${t.text}: ${share}`);
  }
  assert.throws(() => sampleCaptions(words, [], { seed: 1 }), /sampleCaptions: templates must be a non-empty array of caption templates, got \[\]/);
  assert.throws(() => sampleCaptions(words, TRAIN_TEMPLATES, { seed: 1.5 }), /sampleCaptions: options.seed must be an integer, got 1.5/);
});

test("captionTokenizer: a closed vocabulary, padded ids with lengths, decode inverts encode", () => {
  const tok = captionTokenizer();
  assert.equal(tok.words[0], "<pad>");
  assert.equal(tok.size, tok.words.length);
  assert.equal(tok.maxLength, 7); // "a wide thick seven leaning left" + "the digit seven , wide and thick" both hold 7 words
  const captions = ["a seven", "the digit seven , wide and thick", "the number one"];
  const enc = tok.encode(captions);
  assert.deepEqual(Array.from(enc.lengths), [2, 7, 3]);
  assert.equal(enc.tokens.length, 3 * 7);
  assert.deepEqual(Array.from(enc.tokens.subarray(2, 7)), [0, 0, 0, 0, 0]);
  assert.ok(Array.from(enc.tokens.subarray(7, 14)).every((id) => id > 0));
  captions.forEach((c, i) => assert.equal(tok.decode(enc, i), c));
  // Every caption any template can produce encodes.
  for (const t of CAPTION_TEMPLATES) for (let d = 0; d < 10; d++) tok.encode(promptsForDigit(t, d));
  assert.throws(() => tok.encode(["a purple seven"]), /CaptionTokenizer.encode: captions\[0\] must use only the caption vocabulary, got the word "purple" in "a purple seven"/);
  assert.throws(() => tok.encode(["a a a a a a a a"]), /CaptionTokenizer.encode: captions\[0\] must have at most 7 words, got 8/);
  assert.throws(() => tok.encode(["<pad>"]), /must use only the caption vocabulary, got the word "<pad>"/);
  assert.throws(() => tok.decode(enc, 3), /CaptionTokenizer.decode: row must be an integer in \[0, 3\), got 3/);
});
