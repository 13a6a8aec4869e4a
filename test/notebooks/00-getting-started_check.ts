/**
 * Checks the numbers 00-getting-started reports (run by `npm run test:notebooks`
 * after the harness executed it).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";
import { notebookDisplays, notebookExercises, notebookResults, num } from "./results";

const results = notebookResults("00-getting-started");

interface SourceCell {
  cell_type: string;
  source: string[];
}

/** The cells of the notebook as committed (the instructor's version). */
function notebookCells(): SourceCell[] {
  const file = path.resolve(__dirname, "..", "..", "..", "notebooks", "00-getting-started.ipynb");
  return (JSON.parse(fs.readFileSync(file, "utf8")) as { cells: SourceCell[] }).cells;
}

test("the first supervised CNN reaches at least 95% on the MNIST test split", () => {
  // Measured on wasm (2 threads): 96.9% with the notebook's seed 7 and its loss, exercise 00.1's myCrossEntropy
  // (97.7% with tf.losses.softmaxCrossEntropy: the same math, rounded differently, so another trajectory);
  // seeds 1 and 2 gave 96.3% and 95.8%, so the seed is fixed in the notebook and the margin over 95% is thin on other seeds.
  assert.ok(num(results, "testAccuracy") >= 0.95, `test accuracy ${num(results, "testAccuracy")}`);
  assert.equal(num(results, "steps"), 1000);
});

test("the baselines are real: raw pixels and a random CNN are far above chance, below the supervised encoder", () => {
  for (const key of ["probeRaw", "knnRaw", "probeRandom", "knnRandom"]) {
    const v = num(results, key);
    assert.ok(v > 0.8 && v < 0.97, `${key} = ${v}`);
  }
  // Supervised features must beat both baselines under both classifiers.
  for (const kind of ["probe", "knn"]) {
    const supervised = num(results, `${kind}Supervised`);
    for (const base of ["Raw", "Random"]) {
      const baseline = num(results, `${kind}${base}`);
      assert.ok(supervised > baseline + 0.02, `${kind}Supervised ${supervised} vs ${kind}${base} ${baseline}`);
    }
  }
});

test("the few-labels yardstick: accuracy rises with labels, and the supervised encoder's features lead at 10 per class", () => {
  // Measured on wasm (2 threads) with the notebook's seed 7, probe with 1/10/100 labels per class (5 draws):
  // raw pixels 0.439/0.729/0.859, untrained CNN 0.344/0.762/0.898, supervised encoder 0.705/0.947/0.972;
  // the CNN trained from scratch on them (2 draws) 0.364/0.808/0.872. Accuracy rises with labels by 0.03 or more
  // at every step, and the all-label features lead the from-scratch CNN by 0.14 at 10 per class.
  for (const rep of ["Raw", "Random", "Supervised"]) {
    const p1 = num(results, `probe1${rep}`), p10 = num(results, `probe10${rep}`), p100 = num(results, `probe100${rep}`);
    assert.ok(p1 < p10 && p10 < p100, `${rep}: ${p1} -> ${p10} -> ${p100}`);
    assert.ok(p1 > 0.15, `${rep} with one label per class is above chance (0.1): ${p1}`);
  }
  assert.ok(num(results, "scratch1") < num(results, "scratch10") && num(results, "scratch10") < num(results, "scratch100"));
  assert.ok(num(results, "probe10Supervised") > num(results, "scratch10") + 0.05, "all-label features beat training from scratch on 10 per class");
  assert.ok(num(results, "probe10Supervised") > num(results, "probe10Random") + 0.05);
});

test("1-NN with the student's nearest-neighbour function (exercise 00.2): far above chance, supervised features ahead", () => {
  // Measured on wasm (2 threads) with the notebook's seed 7: raw pixels 0.9555, untrained CNN 0.8915, supervised
  // CNN 0.9785 (the kNN column with k = 20: 0.942, 0.8925, 0.974). The function is the student's, so the bounds are loose.
  for (const key of ["nn1Raw", "nn1Random", "nn1Supervised"]) {
    const v = num(results, key);
    assert.ok(v > 0.8 && v < 0.995, `${key} = ${v}`);
  }
  assert.ok(num(results, "nn1Supervised") > num(results, "nn1Random") + 0.02, "supervised features beat the untrained CNN under 1-NN");
});

test("the exercises: nbgrader cells in place, and the cells after them run the student's functions", () => {
  const { graded, source } = notebookExercises("00-getting-started");
  assert.deepEqual(graded, [["00.1", "solution"], ["00.1-check", 2], ["00.2", "solution"], ["00.2-check", 2]]);
  const training = source("history = await training.train(");
  assert.match(training, /return myCrossEntropy\(logits, y\);/);
  assert.ok(!training.includes("softmaxCrossEntropy"), "the training cell uses the student's loss only");
  assert.ok(notebookCells().some((c) => c.source.join("").includes("myNearestNeighbour(features(trainSet.x), trainSet.y, features(testSet.x))")), "the 1-NN table uses the student's function");
});

test("the figures and tables are in the executed notebook", () => {
  const shown = notebookDisplays("00-getting-started");
  for (const title of ["The first 32 training digits and their labels", "Training loss", "Test accuracy of each representation", "Test accuracy against labelled digits per class (mean and std over draws)"]) {
    assert.ok(shown.figureTitles.includes(title), `figure "${title}" missing; found ${JSON.stringify(shown.figureTitles)}`);
  }
  assert.ok(shown.tableCaptions.some((c) => c.startsWith("Brown corpus")), JSON.stringify(shown.tableCaptions));
  assert.ok(shown.tableCaptions.some((c) => c.startsWith("Test accuracy with k labelled digits per class")), JSON.stringify(shown.tableCaptions));
  assert.ok(shown.tableCaptions.some((c) => c.startsWith("1-NN test accuracy with your myNearestNeighbour")), JSON.stringify(shown.tableCaptions));
});

test("the opening: title first, a self-contained diagram of the two families, the map of every notebook", () => {
  const markdown = notebookCells().filter((c) => c.cell_type === "markdown").map((c) => c.source.join(""));
  assert.ok(markdown[0].startsWith("# Getting started: the kernel, the data, a first model\n"), markdown[0].slice(0, 80));
  const svg = /src="data:image\/svg\+xml,(<svg[\s\S]*?<\/svg>)"/.exec(markdown[0]);
  assert.ok(svg, "the diagram is an SVG in a data URI");
  // Nothing loaded from elsewhere, and nothing a data URI cannot hold unescaped.
  assert.deepEqual(svg[1].match(/https?:\/\/[^'"\s]*/g), ["http://www.w3.org/2000/svg"]);
  assert.ok(!/href|url\(|[#%"]|\n\s*\n/.test(svg[1]), "no links, fragments, escapes, quotes or blank lines in the SVG");
  for (const family of ["Self-prediction", "Contrastive learning"]) assert.ok(svg[1].includes(family), family);
  const map = markdown.find((m) => m.startsWith("## The map of the workbook"));
  assert.ok(map, "the map of the workbook");
  for (const n of ["00", "01", "02", "03", "04", "05", "06", "07", "08"]) assert.match(map, new RegExp("\\| `" + n + "-"), `notebook ${n} in the map`);
  assert.match(map, /\| `07-theory` \| theory and future directions \|[^\n]*mutual information[^\n]*bias in embeddings/, "07 is available, not coming");
  assert.match(map, /\| `08-your-own-data` \| beyond the tutorial \|[^\n]*loaders[^\n]*Embedding Projector/, "08 is available, not coming");
  assert.ok(!map.includes("(coming)"), "every notebook of the map is available");
  assert.match(map, /\| `02-self-prediction` \| self-prediction \|[^\n]*VQ-VAE/, "02 is available, not coming");
  assert.match(map, /\| `05-pretext-beyond-vision` \| pretext tasks: video[^\n]*CLIP/, "05 is available, not coming");
  assert.match(map, /\| `06-techniques` \| techniques \|[^\n]*MoCHi/, "06 is available, not coming");
});
