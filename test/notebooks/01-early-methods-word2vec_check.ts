/**
 * Checks section 3 of 01-early-methods (word2vec and GloVe on the Brown corpus,
 * judged by WordNet synonyms), after the harness executed the notebook.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { notebookDisplays, notebookResults, num } from "./results";

const results = notebookResults("01-early-methods");

test("word2vec: the synonym test has its measured size", () => {
  // Lower-cased Brown without punctuation, minCount 5: 14,213 ids; 10,251 single-word WordNet 3.1
  // synonym pairs inside it (deterministic: no seed involved).
  assert.equal(num(results, "w2vVocabSize"), 14213);
  assert.equal(num(results, "w2vSynonymPairs"), 10251);
});

test("word2vec: every model and the count baseline detect synonyms above chance", () => {
  // Measured over seeds 0, 1, 2 (model init, batches and the random pairs all seeded; wasm backend):
  //   counts 0.668 / 0.670 / 0.670, skip-gram 0.683 / 0.695 / 0.695, CBOW 0.705 / 0.708 / 0.705,
  //   GloVe 0.669 / 0.671 / 0.667. Chance is 0.5; the lowest measured value is 0.667.
  for (const key of ["w2vAucCounts", "w2vAucSkipGram", "w2vAucCbow", "w2vAucGlove"]) {
    const auc = num(results, key);
    assert.ok(auc > 0.64 && auc < 0.75, `${key} = ${auc}`);
  }
});

test("word2vec: the learned vectors compare with the count baseline as measured", () => {
  const counts = num(results, "w2vAucCounts");
  // AUC minus the count baseline, seeds 0/1/2: skip-gram +0.016 / +0.025 / +0.025,
  // CBOW +0.037 / +0.037 / +0.035, GloVe +0.001 / +0.001 / -0.003.
  const skipGram = num(results, "w2vAucSkipGram") - counts;
  const cbow = num(results, "w2vAucCbow") - counts;
  const glove = num(results, "w2vAucGlove") - counts;
  assert.ok(skipGram > 0.008, `skip-gram - counts = ${skipGram}`);
  assert.ok(cbow > 0.02, `CBOW - counts = ${cbow}`);
  // GloVe does not beat the counts it is fitted to in this budget: it must stay level with them.
  assert.ok(Math.abs(glove) < 0.015, `GloVe - counts = ${glove}`);
  assert.ok(cbow > glove + 0.015, `CBOW ${cbow} vs GloVe ${glove} (relative to counts)`);
});

test("word2vec: the figures are in the executed notebook", () => {
  const shown = notebookDisplays("01-early-methods");
  for (const title of ["Skip-gram vectors of the 200 most frequent words (PCA)", "Synonym detection: ROC AUC of cosine similarity"]) {
    assert.ok(shown.figureTitles.includes(title), `figure "${title}" missing; found ${JSON.stringify(shown.figureTitles)}`);
  }
  for (const caption of ["Five nearest neighbours by cosine similarity", "Brown corpus for word vectors"]) {
    assert.ok(shown.tableCaptions.includes(caption), `table "${caption}" missing`);
  }
  assert.ok(shown.tableCaptions.some((c) => c.startsWith("Synonym detection by cosine")));
});
