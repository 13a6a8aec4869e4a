/**
 * Captioned digits: MNIST images paired with sentences that say more than
 * the label, so that a CLIP-style model (Radford et al. 2021, "Learning
 * Transferable Visual Models From Natural Language Supervision") has text
 * worth aligning with. Nothing here is drawn by hand: three attributes are
 * measured from each image's pixels, bucketed into words, and written into
 * caption templates. See data/digit-captions.md for the data card.
 *
 * - **width** of the ink's bounding box, in pixels. MNIST scaled every digit
 *   so that its longer side is 20 pixels (LeCun et al. 1998), so the box's
 *   height is 20 for almost every digit and carries no information; its
 *   width does. Words: `narrow` / `wide`, split at the median width *of the
 *   digit's own class* (a wide one is wide for a one).
 * - **slant**, the shear of the ink from its second moments,
 *   `-cov(column, row) / var(row)` over pixel intensities: how many columns
 *   the stroke moves right per row going up (atan(slant) is the lean from
 *   vertical). Words: `left` / `upright` / `right`, split at the tertiles
 *   over all training digits (most MNIST digits lean right; the left third
 *   is the upright-or-left ones).
 * - **thickness** of the stroke, `2 * area / perimeter` of the ink
 *   (pixels > 0.5; the perimeter counts the 4-neighbour edges between ink
 *   and background). A ribbon of length L and width w has area L w and
 *   perimeter 2 (L + w), so this is w for L >> w, without a skeleton.
 *   Words: `thin` / `thick`, split at the median over all training digits.
 */
import { checkImageSet, type ImageSet } from "./mnist";
import { createRng, fmix32 } from "./random";
import { checkInteger, checkNonNegativeInteger, checkOptions, checkPositiveInteger, describe } from "../validation/arguments";

/** The English name of each digit, the word captions use for the label. */
export const DIGIT_NAMES: readonly string[] = Object.freeze(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]);

/** Pixels above this value are ink (for the bounding box, the area and the perimeter). */
export const INK_THRESHOLD = 0.5;

/** Measured attributes of a set of digits, float64, one entry per image. */
export interface DigitMeasurements {
  /** `[n]` the digit's label. */
  readonly digit: Int32Array;
  /** `[n]` width of the ink's bounding box, in pixels. */
  readonly width: Float64Array;
  /** `[n]` shear `-cov(column, row) / var(row)`: > 0 leans right. */
  readonly slant: Float64Array;
  /** `[n]` stroke thickness `2 * area / perimeter` of the ink, in pixels. */
  readonly thickness: Float64Array;
}

/** Width, slant and thickness of one image (see the module comment). */
export interface DigitAttributes {
  width: number;
  slant: number;
  thickness: number;
}

/**
 * Measures one greyscale image stored at `images[offset ..]` (row-major,
 * `height * width` values in [0, 1]), in float64.
 *
 * Throws when no pixel exceeds {@link INK_THRESHOLD} (nothing to measure).
 *
 * @example
 * const { train } = loadMnist();
 * measureDigit(train.images, 0); // { width: 15, slant: 0.12, thickness: 2.1 }
 */
export function measureDigit(images: ArrayLike<number>, offset = 0, height = 28, width = 28): DigitAttributes {
  const fn = "measureDigit";
  checkNonNegativeInteger(fn, "offset", offset);
  checkPositiveInteger(fn, "height", height);
  checkPositiveInteger(fn, "width", width);
  if (offset + height * width > images.length) {
    throw new Error(`${fn}: images must hold height*width = ${height * width} values from offset ${offset}, got length ${images.length}`);
  }
  const at = (r: number, c: number) => images[offset + r * width + c];
  const ink = (r: number, c: number) => r >= 0 && r < height && c >= 0 && c < width && at(r, c) > INK_THRESHOLD;
  let minCol = width, maxCol = -1, area = 0, perimeter = 0, mass = 0, sumCol = 0, sumRow = 0;
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const v = at(r, c);
      mass += v;
      sumCol += v * c;
      sumRow += v * r;
      if (v > INK_THRESHOLD) {
        area++;
        minCol = Math.min(minCol, c);
        maxCol = Math.max(maxCol, c);
        if (!ink(r - 1, c)) perimeter++;
        if (!ink(r + 1, c)) perimeter++;
        if (!ink(r, c - 1)) perimeter++;
        if (!ink(r, c + 1)) perimeter++;
      }
    }
  }
  if (area === 0) throw new Error(`${fn}: the image at offset ${offset} must have a pixel > ${INK_THRESHOLD} (ink), got none`);
  const meanCol = sumCol / mass, meanRow = sumRow / mass;
  let covColRow = 0, varRow = 0;
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const v = at(r, c);
      covColRow += v * (c - meanCol) * (r - meanRow);
      varRow += v * (r - meanRow) ** 2;
    }
  }
  // Rows grow downwards, so a digit whose top leans right has column falling as row grows.
  return { width: maxCol - minCol + 1, slant: varRow > 0 && covColRow !== 0 ? -covColRow / varRow : 0, thickness: (2 * area) / perimeter };
}

/**
 * Measures every image of a greyscale set.
 *
 * Shapes: `set` of n images `[h, w, 1]` -> arrays `[n]`.
 *
 * @example
 * const m = measureDigits(loadMnist().train); // m.width[0], m.slant[0], m.thickness[0]
 */
export function measureDigits(set: ImageSet): DigitMeasurements {
  const fn = "measureDigits";
  checkImageSet(fn, set);
  const [h, w, c] = set.shape;
  if (c !== 1) throw new Error(`${fn}: set.shape must be [height, width, 1] (greyscale), got ${describe([...set.shape])}`);
  const n = set.n;
  const out = { digit: set.labels.slice(), width: new Float64Array(n), slant: new Float64Array(n), thickness: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const a = measureDigit(set.images, i * h * w, h, w);
    out.width[i] = a.width;
    out.slant[i] = a.slant;
    out.thickness[i] = a.thickness;
  }
  return out;
}

/** The thresholds that turn measurements into words, fitted on the training digits. */
export interface AttributeBuckets {
  /** `[10]` median width of each class: below it `narrow`, else `wide`. */
  readonly widthMedianByDigit: readonly number[];
  /** `[2]` tertiles of slant: below the first `left`, from the second on `right`, else `upright`. */
  readonly slantTertiles: readonly [number, number];
  /** Median thickness: below it `thin`, else `thick`. */
  readonly thicknessMedian: number;
}

/** Quantile `p` of `values` (the order statistic at floor(p * (n - 1)) of the sorted copy). */
function quantile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.floor(p * (sorted.length - 1))];
}

/**
 * Fits the word thresholds on training measurements: per-class median
 * width, slant tertiles and median thickness over all digits.
 *
 * Throws when a class 0..9 has no digit (its width median is undefined).
 *
 * @example
 * const buckets = fitAttributeBuckets(measureDigits(mnist.train));
 * buckets.slantTertiles; // e.g. [0.004, 0.252]
 */
export function fitAttributeBuckets(measurements: DigitMeasurements): AttributeBuckets {
  const fn = "fitAttributeBuckets";
  checkMeasurements(fn, measurements);
  const widthMedianByDigit = DIGIT_NAMES.map((_, d) => {
    const widths = measurements.width.filter((_, i) => measurements.digit[i] === d);
    if (widths.length === 0) throw new Error(`${fn}: measurements must hold every digit 0..9, got none of digit ${d}`);
    return quantile(widths, 0.5);
  });
  return Object.freeze({
    widthMedianByDigit: Object.freeze(widthMedianByDigit),
    slantTertiles: Object.freeze([quantile(measurements.slant, 1 / 3), quantile(measurements.slant, 2 / 3)]) as readonly [number, number],
    thicknessMedian: quantile(measurements.thickness, 0.5),
  });
}

function checkMeasurements(fn: string, m: DigitMeasurements): void {
  checkOptions(fn, m, "{digit, width, slant, thickness}");
  const n = m.digit?.length;
  for (const key of ["width", "slant", "thickness"] as const) {
    if (!(m[key] instanceof Float64Array) || m[key].length !== n) {
      throw new Error(`${fn}: measurements.${key} must be a Float64Array of length ${n} (like measurements.digit), got ${describe(m[key])}`);
    }
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(m.digit[i]) || m.digit[i] < 0 || m.digit[i] > 9) {
      throw new Error(`${fn}: measurements.digit must hold digits 0..9, got ${m.digit[i]} at index ${i}`);
    }
  }
}

/** The words describing one digit. */
export interface DigitDescription {
  digit: number;
  width: "narrow" | "wide";
  slant: "left" | "upright" | "right";
  thickness: "thin" | "thick";
}

/** The words each attribute takes, in order. */
export const ATTRIBUTE_WORDS = Object.freeze({
  width: Object.freeze(["narrow", "wide"] as const),
  slant: Object.freeze(["left", "upright", "right"] as const),
  thickness: Object.freeze(["thin", "thick"] as const),
});

/**
 * The words of every digit in `measurements`, by `buckets`.
 *
 * Shapes: measurements `[n]` -> `[n]` descriptions.
 *
 * @example
 * const words = describeDigits(measureDigits(mnist.test), buckets);
 * words[0]; // { digit: 7, width: "narrow", slant: "right", thickness: "thin" }
 */
export function describeDigits(measurements: DigitMeasurements, buckets: AttributeBuckets): DigitDescription[] {
  const fn = "describeDigits";
  checkMeasurements(fn, measurements);
  checkOptions(fn, buckets, "{widthMedianByDigit, slantTertiles, thicknessMedian}");
  const [low, high] = buckets.slantTertiles;
  return Array.from(measurements.digit, (digit, i) => ({
    digit,
    width: measurements.width[i] < buckets.widthMedianByDigit[digit] ? "narrow" : "wide",
    slant: measurements.slant[i] < low ? "left" : measurements.slant[i] >= high ? "right" : "upright",
    thickness: measurements.thickness[i] < buckets.thicknessMedian ? "thin" : "thick",
  }));
}

/** A caption template: its text with `{digit}`, `{width}`, `{slant}`, `{thickness}` slots. */
export interface CaptionTemplate {
  /** Index in {@link CAPTION_TEMPLATES}. */
  readonly id: number;
  /** The pattern, words separated by single spaces, e.g. `"a {thickness} {digit} {slant}"`. */
  readonly text: string;
  /** `"train"`: captions of the training pairs; `"heldOut"`: never seen in training, for zero-shot prompts only. */
  readonly split: "train" | "heldOut";
}

/** How each slant word reads in a caption. */
const SLANT_PHRASES: Readonly<Record<DigitDescription["slant"], string>> = Object.freeze({ left: "leaning left", upright: "upright", right: "leaning right" });

/**
 * The templates, a fixed split. Training captions use the first five; the
 * last three are held out: new word orders, and two words (`number`,
 * `written`) that no training caption contains, so their embeddings stay at
 * initialisation. Template 2 mentions every attribute (the retrieval
 * captions); template 3 only the label.
 */
export const CAPTION_TEMPLATES: readonly CaptionTemplate[] = Object.freeze(
  ([
    ["a {thickness} {digit} {slant}", "train"],
    ["the digit {digit} , {width} and {thickness}", "train"],
    ["a {width} {thickness} {digit} {slant}", "train"],
    ["a {digit}", "train"],
    ["{digit} , {slant}", "train"],
    ["the number {digit}", "heldOut"],
    ["a {width} {digit} written {thickness}", "heldOut"],
    ["{digit} , {thickness} and {width}", "heldOut"],
  ] as const).map(([text, split], id) => Object.freeze({ id, text, split })),
);

/** The training templates (captions of the pairs CLIP trains on). */
export const TRAIN_TEMPLATES: readonly CaptionTemplate[] = Object.freeze(CAPTION_TEMPLATES.filter((t) => t.split === "train"));
/** The held-out templates: zero-shot prompts never seen in training. */
export const HELD_OUT_TEMPLATES: readonly CaptionTemplate[] = Object.freeze(CAPTION_TEMPLATES.filter((t) => t.split === "heldOut"));

const SLOTS = ["digit", "width", "slant", "thickness"] as const;

function checkTemplate(fn: string, arg: string, template: CaptionTemplate): void {
  if (template === null || typeof template !== "object" || typeof template.text !== "string") {
    throw new Error(`${fn}: ${arg} must be a caption template {id, text, split}, got ${describe(template)}`);
  }
  for (const m of template.text.matchAll(/\{([a-z]+)\}/g)) {
    if (!(SLOTS as readonly string[]).includes(m[1])) throw new Error(`${fn}: ${arg}.text must use only the slots {${SLOTS.join("}, {")}}, got {${m[1]}}`);
  }
  if (!template.text.includes("{digit}")) throw new Error(`${fn}: ${arg}.text must contain {digit}, got ${JSON.stringify(template.text)}`);
}

/**
 * One caption: `template` with its slots filled from `description`.
 *
 * @example
 * renderCaption(CAPTION_TEMPLATES[0], { digit: 7, width: "wide", slant: "left", thickness: "thick" });
 * // "a thick seven leaning left"
 */
export function renderCaption(template: CaptionTemplate, description: DigitDescription): string {
  const fn = "renderCaption";
  checkTemplate(fn, "template", template);
  checkOptions(fn, description, "{digit, width, slant, thickness}");
  if (!Number.isInteger(description.digit) || description.digit < 0 || description.digit > 9) {
    throw new Error(`${fn}: description.digit must be an integer in [0, 9], got ${describe(description.digit)}`);
  }
  for (const key of ["width", "slant", "thickness"] as const) {
    if (!(ATTRIBUTE_WORDS[key] as readonly string[]).includes(description[key])) {
      throw new Error(`${fn}: description.${key} must be one of ${ATTRIBUTE_WORDS[key].map((w) => JSON.stringify(w)).join(", ")}, got ${describe(description[key])}`);
    }
  }
  return template.text
    .replace("{digit}", DIGIT_NAMES[description.digit])
    .replace("{width}", description.width)
    .replace("{slant}", SLANT_PHRASES[description.slant])
    .replace("{thickness}", description.thickness);
}

/**
 * The zero-shot prompts of one class from one template: the template
 * filled with `digit` and every combination of the attribute words its
 * other slots take (one prompt for `"the number {digit}"`, 2 x 3 for
 * `"a {thickness} {digit} {slant}"`). Averaging their embeddings
 * marginalises the attributes an unlabelled test image has but the class
 * name does not say, as CLIP's "a photo of a big {}" / "small {}" prompts do.
 *
 * @example
 * promptsForDigit(CAPTION_TEMPLATES[3], 7); // ["a seven"]
 */
export function promptsForDigit(template: CaptionTemplate, digit: number): string[] {
  const fn = "promptsForDigit";
  checkTemplate(fn, "template", template);
  if (!Number.isInteger(digit) || digit < 0 || digit > 9) throw new Error(`${fn}: digit must be an integer in [0, 9], got ${describe(digit)}`);
  const used = (slot: string) => template.text.includes(`{${slot}}`);
  const options = <K extends keyof typeof ATTRIBUTE_WORDS>(key: K) => (used(key) ? ATTRIBUTE_WORDS[key] : ATTRIBUTE_WORDS[key].slice(0, 1));
  const prompts: string[] = [];
  for (const width of options("width")) {
    for (const slant of options("slant")) {
      for (const thickness of options("thickness")) prompts.push(renderCaption(template, { digit, width, slant, thickness } as DigitDescription));
    }
  }
  return prompts;
}

/**
 * One caption per digit for one epoch: each digit gets a template drawn
 * uniformly from `templates`, by a generator seeded with `(seed, epoch)`,
 * so a digit is described differently from epoch to epoch but the same way
 * in every run with that seed.
 *
 * Shapes: `descriptions` `[n]` -> `[n]` captions.
 *
 * @example
 * const captions = sampleCaptions(descriptions, TRAIN_TEMPLATES, { seed: 1, epoch: 0 });
 */
export function sampleCaptions(
  descriptions: readonly DigitDescription[],
  templates: readonly CaptionTemplate[],
  options: { seed: number; epoch?: number },
): string[] {
  const fn = "sampleCaptions";
  if (!Array.isArray(descriptions)) throw new Error(`${fn}: descriptions must be an array of digit descriptions, got ${describe(descriptions)}`);
  if (!Array.isArray(templates) || templates.length === 0) throw new Error(`${fn}: templates must be a non-empty array of caption templates, got ${describe(templates)}`);
  templates.forEach((t, i) => checkTemplate(fn, `templates[${i}]`, t));
  checkOptions(fn, options, "{seed, epoch?}");
  const { seed, epoch = 0 } = options;
  checkInteger(fn, "options.seed", seed);
  checkNonNegativeInteger(fn, "options.epoch", epoch);
  const rng = createRng(fmix32(fmix32(seed >>> 0) ^ Math.imul(epoch + 1, 0x85ebca6b)));
  return descriptions.map((d) => renderCaption(templates[rng.int(templates.length)], d));
}

/** The padding token, id 0. */
export const PAD_TOKEN = "<pad>";

/** Captions as token ids, padded to a fixed length. */
export interface TokenizedCaptions {
  /** `[n * maxLength]` row-major ids, {@link PAD_TOKEN}'s 0 after each caption's end. */
  readonly tokens: Int32Array;
  /** `[n]` real tokens of each caption, each in [1, maxLength]. */
  readonly lengths: Int32Array;
  /** Captions. */
  readonly n: number;
  /** Ids per padded caption. */
  readonly maxLength: number;
}

/** A word-level tokeniser over a closed vocabulary. */
export interface CaptionTokenizer {
  /** `[size]` the word of each id; `words[0]` is {@link PAD_TOKEN}. */
  readonly words: readonly string[];
  /** Number of ids, padding included. */
  readonly size: number;
  /** Longest caption, in words; `encode` pads to it. */
  readonly maxLength: number;
  /** Token ids of captions (split on single spaces); throws on a word outside the vocabulary or a caption too long. */
  encode(captions: readonly string[]): TokenizedCaptions;
  /** The caption of row `row` of `encoded`, padding dropped. */
  decode(encoded: TokenizedCaptions, row: number): string;
}

/**
 * The tokeniser of the caption vocabulary: every word of every template in
 * {@link CAPTION_TEMPLATES} (held-out ones included, so a held-out prompt
 * can be encoded; its new words simply never get a gradient), every digit
 * name and attribute phrase, sorted, after {@link PAD_TOKEN}. The vocabulary
 * is closed: an unknown word is an error, never an `<unk>`.
 *
 * @example
 * const tok = captionTokenizer();
 * const { tokens, lengths } = tok.encode(["a seven", "the digit one , wide and thin"]);
 */
export function captionTokenizer(templates: readonly CaptionTemplate[] = CAPTION_TEMPLATES): CaptionTokenizer {
  const fn = "captionTokenizer";
  if (!Array.isArray(templates) || templates.length === 0) throw new Error(`${fn}: templates must be a non-empty array of caption templates, got ${describe(templates)}`);
  templates.forEach((t, i) => checkTemplate(fn, `templates[${i}]`, t));
  const vocabulary = new Set<string>([...DIGIT_NAMES, ...ATTRIBUTE_WORDS.width, ...ATTRIBUTE_WORDS.thickness]);
  for (const phrase of Object.values(SLANT_PHRASES)) phrase.split(" ").forEach((w) => vocabulary.add(w));
  for (const t of templates) for (const w of t.text.split(" ")) if (!/^\{[a-z]+\}$/.test(w)) vocabulary.add(w);
  const words = Object.freeze([PAD_TOKEN, ...[...vocabulary].sort()]);
  const ids = new Map(words.map((w, i) => [w, i]));
  // The longest filled template: slant's phrase has two words, the other slots one.
  const maxLength = Math.max(...templates.map((t) => t.text.split(" ").length + (t.text.includes("{slant}") ? 1 : 0)));
  return Object.freeze({
    words,
    size: words.length,
    maxLength,
    encode(captions: readonly string[]): TokenizedCaptions {
      const where = "CaptionTokenizer.encode";
      if (!Array.isArray(captions)) throw new Error(`${where}: captions must be an array of strings, got ${describe(captions)}`);
      const tokens = new Int32Array(captions.length * maxLength);
      const lengths = new Int32Array(captions.length);
      captions.forEach((caption, i) => {
        if (typeof caption !== "string") throw new Error(`${where}: captions[${i}] must be a string, got ${describe(caption)}`);
        const split = caption.split(" ");
        if (split.length > maxLength) throw new Error(`${where}: captions[${i}] must have at most ${maxLength} words, got ${split.length} in ${JSON.stringify(caption)}`);
        split.forEach((w, k) => {
          const id = ids.get(w);
          if (id === undefined || id === 0) throw new Error(`${where}: captions[${i}] must use only the caption vocabulary, got the word ${JSON.stringify(w)} in ${JSON.stringify(caption)}`);
          tokens[i * maxLength + k] = id;
        });
        lengths[i] = split.length;
      });
      return { tokens, lengths, n: captions.length, maxLength };
    },
    decode(encoded: TokenizedCaptions, row: number): string {
      const where = "CaptionTokenizer.decode";
      if (encoded === null || typeof encoded !== "object" || !(encoded.tokens instanceof Int32Array)) {
        throw new Error(`${where}: encoded must be tokenized captions {tokens, lengths, n, maxLength}, got ${describe(encoded)}`);
      }
      if (!Number.isInteger(row) || row < 0 || row >= encoded.n) throw new Error(`${where}: row must be an integer in [0, ${encoded.n}), got ${describe(row)}`);
      const start = row * encoded.maxLength;
      return Array.from(encoded.tokens.subarray(start, start + encoded.lengths[row]), (id) => words[id]).join(" ");
    },
  });
}
