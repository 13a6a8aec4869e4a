/**
 * Checks the numbers 02-self-prediction reports (run by `npm run test:notebooks`
 * after the harness executed it). Margins: measured on wasm (2 threads) with the
 * notebook's SEED at 1, 2 and 3; the values are in the comments.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { notebookDisplays, notebookExercises, notebookResults, num } from "./results";

const results = notebookResults("02-self-prediction");
// Each margin is below the smallest gap of the three seeds (in brackets).
const GPT_MARGIN = 0.08; // [0.165]
const BERT_MARGIN = 0.02; // [0.039]
const MAE_RATIO = 0.98; // masked MSE / mean-patch MSE [0.955 at most]
const MAE_PROBE_MARGIN = 0.015; // [0.037]
const PRETEXT_MARGIN = 0.005; // [0.012, RotNet at seed 3]

test("the GPT beats the unigram and bigram counts on held-out Brown characters", () => {
  // Measured (bits per character, seeds 1/2/3): GPT 3.260/3.340/3.268, bigram 3.494/3.506/3.493, unigram 4.486/4.477/4.460.
  const gpt = num(results, "gptBits");
  assert.ok(gpt < num(results, "unigramBits") - 0.8, `GPT ${gpt} vs unigram ${num(results, "unigramBits")}`);
  assert.ok(gpt < num(results, "bigramBits") - GPT_MARGIN, `GPT ${gpt} vs bigram ${num(results, "bigramBits")} (-${GPT_MARGIN} required)`);
});

test("BERT recovers more masked characters than always guessing the most frequent one", () => {
  // Measured: 0.218/0.228/0.225 against 0.179/0.178/0.179 (a space).
  const bert = num(results, "bertAccuracy"), space = num(results, "spaceAccuracy");
  assert.ok(bert > space + BERT_MARGIN, `BERT ${bert} vs ${space} (+${BERT_MARGIN} required)`);
});

test("PixelCNN's likelihood beats independent pixels by a wide margin", () => {
  // Measured (nats per image): 84.1/83.7/83.0 against 207.1.
  const pixel = num(results, "pixelCnnNll"), independent = num(results, "independentNll");
  assert.ok(pixel < independent - 60, `PixelCNN ${pixel} vs independent ${independent}`);
});

test("MAE's error on the hidden patches is below the mean patch's, and its encoder beats the random-init ViT with 10 labels per class", () => {
  // Measured: masked MSE 0.0648/0.0648/0.0651 against 0.0682 each; probe 0.456/0.473/0.470 against 0.412/0.417/0.433.
  const mse = num(results, "maeMse75"), baseline = num(results, "meanPatchMse75");
  assert.ok(mse < MAE_RATIO * baseline, `MAE ${mse} vs mean patch ${baseline} (x${MAE_RATIO} required)`);
  const probe = num(results, "maeProbe10:75%"), random = num(results, "randomVitProbe10");
  assert.ok(probe > random + MAE_PROBE_MARGIN, `MAE probe ${probe} vs random-init ViT ${random} (+${MAE_PROBE_MARGIN} required)`);
});

test("RotNet, relative position and jigsaw beat the random-init encoder on the few-labels probe", () => {
  // Measured with 10 labels per class (random init 0.737/0.729/0.761): RotNet 0.760/0.745/0.772,
  // relative position 0.771/0.748/0.786, jigsaw 0.768/0.760/0.785.
  // Counting's output layer does not (0.581/0.551/0.557): the notebook shows it and its middle layer.
  const random = num(results, "probe10:small CNN, random init");
  for (const task of ["RotNet", "relative position", "jigsaw"]) {
    const probe = num(results, `pretextProbe10:${task}`);
    assert.ok(probe > random + PRETEXT_MARGIN, `${task}: ${probe} vs random init ${random} (+${PRETEXT_MARGIN} required)`);
  }
});

test("the context encoder fills the hole better than the mean image and its encoder beats random init", () => {
  // Measured: region MSE 0.112/0.115/0.113 against 0.123; probe 0.798/0.790/0.790 against 0.737/0.729/0.761.
  assert.ok(num(results, "contextMse") < num(results, "contextBaselineMse"), "context encoder vs mean image");
  assert.ok(num(results, "contextProbe10") > num(results, "probe10:small CNN, random init") + 0.02, "context encoder probe vs random init");
});

test("the VQ-VAE uses most of its codebook and the prior's NLL per code is below log K and below the codes' own entropy", () => {
  // Measured: 77/105/118 of 128 codes used; prior 2.23/2.86/2.81 nats per code (the codes' entropy 3.54/4.02/3.99, log K 4.85).
  const k = num(results, "codebook");
  assert.ok(num(results, "vqUsedCodes") >= 0.4 * k, `${num(results, "vqUsedCodes")} of ${k} codes used`);
  assert.ok(num(results, "priorNll") < Math.log(k), `prior ${num(results, "priorNll")} vs log K ${Math.log(k)}`);
  assert.ok(num(results, "priorNll") < num(results, "codeEntropy") - 0.5, `prior ${num(results, "priorNll")} vs code entropy ${num(results, "codeEntropy")}`);
});

test("the exercises: nbgrader cells in place, and the GPT and the MAE runs train with the student's functions", () => {
  const { graded, source } = notebookExercises("02-self-prediction");
  assert.deepEqual(graded, [["02.1", "solution"], ["02.1-check", 2], ["02.2", "solution"], ["02.2-check", 2]]);
  assert.match(source("const LM_CONTEXT = "), /nextTokenNll: myNextTokenNll/);
  assert.match(source("const MAE_STEPS = "), /maskedPatchLoss: myMaskedPatchLoss/);
});

test("the figures and tables are in the executed notebook", () => {
  const shown = notebookDisplays("02-self-prediction");
  for (const title of [
    "Bits per character",
    "PixelCNN samples, drawn pixel by pixel",
    "BERT: share of masked characters recovered",
    "MAE: held-out digits rebuilt from a quarter of their patches",
    "Context encoder: the hidden square painted from the rest of the digit",
    "Colorization of held-out coloured digits",
    "RotNet: how often the rotation of a test digit is named, by digit",
    "VQ-VAE: test digits and their reconstructions from the code grid",
    "New digits: code grids sampled from the prior, decoded by the VQ-VAE",
  ]) {
    assert.ok(shown.figureTitles.includes(title), `figure "${title}" missing`);
  }
  for (const caption of ["The baselines", "GPT samples", "Negative log-likelihood of the first", "Linear probe of the genre group", "MAE after", "Pretext tasks after", "Probe with 10 labels per class on each layer", "Every representation of this notebook"]) {
    assert.ok(shown.tableCaptions.some((c) => c.startsWith(caption)), `table "${caption}..." missing: ${JSON.stringify(shown.tableCaptions)}`);
  }
});
