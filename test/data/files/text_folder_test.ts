import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { neighbourBatches, padSentences, sentenceVocab } from "../../../src/data/brown_sentences";
import { createRng } from "../../../src/data/random";
import { readTextFolder, splitSentences, writeTextFolder } from "../../../src/data/files/text_folder";
import { withTempDir } from "./temp_dir";

test("splitSentences: words and punctuation as Brown tokens, sentence ends, blank lines, closing quotes", () => {
  assert.deepEqual(splitSentences("The cat sat. Did it?\n\nYes"), [["The", "cat", "sat", "."], ["Did", "it", "?"], ["Yes"]]);
  assert.deepEqual(splitSentences("Don't stop… well-known (really)!? “Fine.” Next"), [
    ["Don't", "stop", "…", "well-known", "(", "really", ")", "!", "?"],
    ["“", "Fine", ".", "”"],
    ["Next"],
  ]);
  assert.deepEqual(splitSentences("  \n\n "), []);
  assert.throws(() => splitSentences(3 as unknown as string), { message: "splitSentences: text must be a string, got 3" });
});

test("text folder round trip: documents, labels, class names, and a SentenceSet the sentence methods take", async () => {
  await withTempDir((dir) => {
    const texts = ["Fiction here. The END!", "News today.\n\nMore news", "Old tale"];
    writeTextFolder(dir, texts, Int32Array.from([1, 0, 1]), { classNames: ["news", "story"] });
    const set = readTextFolder(dir);
    assert.equal(set.labelled, true);
    assert.deepEqual(set.classNames, ["news", "story"]);
    assert.deepEqual(set.skipped, []);
    assert.deepEqual(set.documents.map((d) => [d.text, path.relative(dir, d.file), d.label]), [
      [texts[1], path.join("news", "1.txt"), 0],
      [texts[0], path.join("story", "0.txt"), 1],
      [texts[2], path.join("story", "2.txt"), 1],
    ]);
    const s = set.sentences;
    assert.deepEqual(s.sentences.map((x) => x.words), [["news", "today", "."], ["more", "news"], ["fiction", "here", "."], ["the", "end", "!"], ["old", "tale"]]);
    assert.deepEqual(s.sentences.map((x) => [x.document, x.position, x.group, x.genre]), [[0, 0, 0, "news"], [0, 1, 0, "news"], [1, 0, 1, "story"], [1, 1, 1, "story"], [2, 0, 1, "story"]]);
    assert.deepEqual(s.documents.map((d) => [d.start, d.count, d.group]), [[0, 2, 0], [2, 2, 1], [4, 1, 1]]);
    const vocab = sentenceVocab(s.sentences, { maxWords: 50 });
    const padded = padSentences(s.sentences, vocab, 4);
    assert.deepEqual(Array.from(padded.lengths), [3, 2, 3, 3, 2]);
    assert.deepEqual(Array.from(padded.rows[1].subarray(0, 2)), Array.from(vocab.words.encode(["more", "news"])));
    // Quick-thought runs of two neighbours come from inside one document.
    for (const batch of neighbourBatches(s, vocab, { runs: 1, runLength: 2, maxLength: 4 })(0, createRng(1))) {
      const [first, second] = batch.tokens.arraySync();
      const time = first.length;
      batch.tokens.dispose();
      const pair = (a: number) => [Array.from(padded.rows[a].subarray(0, time)), Array.from(padded.rows[a + 1].subarray(0, time))];
      assert.ok([0, 2].some((a) => JSON.stringify(pair(a)) === JSON.stringify([first, second])), `run ${JSON.stringify([first, second])}`);
      assert.deepEqual(Array.from(batch.previous), [-1, 0]);
    }
    const raw = readTextFolder(dir, { lowercase: false, dropPunctuation: true });
    assert.deepEqual(raw.sentences.sentences.map((x) => x.words), [["News", "today"], ["More", "news"], ["Fiction", "here"], ["The", "END"], ["Old", "tale"]]);
  });
});

test("unlabelled text folder; skipped files; errors: missing folder, empty class folder, invalid UTF-8, mixed labels", async () => {
  await withTempDir((dir) => {
    const flat = path.join(dir, "flat");
    writeTextFolder(flat, ["one.", "two."]);
    fs.writeFileSync(path.join(flat, "image.png"), "x");
    fs.writeFileSync(path.join(flat, "latin1.txt"), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    const set = readTextFolder(flat);
    assert.equal(set.labelled, false);
    assert.deepEqual(set.documents.map((d) => d.label), [-1, -1]);
    assert.deepEqual(set.sentences.sentences.map((x) => x.group), [-1, -1]);
    assert.deepEqual(set.skipped.map((x) => [path.basename(x.file), x.reason.split(":")[0]]), [
      ["image.png", 'unsupported extension ".png" (reads .txt)'],
      ["latin1.txt", "not readable as UTF-8 text"],
    ]);
    const missing = path.join(dir, "none");
    assert.throws(() => readTextFolder(missing), { message: `readTextFolder: root must be an existing folder, got ${JSON.stringify(missing)} (no such file or folder)` });
    fs.mkdirSync(path.join(dir, "c", "a"), { recursive: true });
    fs.mkdirSync(path.join(dir, "c", "b"));
    fs.writeFileSync(path.join(dir, "c", "a", "x.txt"), "hi");
    assert.throws(() => readTextFolder(path.join(dir, "c")), { message: `readTextFolder: class folder ${JSON.stringify(path.join(dir, "c", "b"))} holds no .txt file; remove it or add files` });
    assert.throws(() => writeTextFolder(path.join(dir, "w"), ["a", "b"], [0, -1]), { message: "writeTextFolder: labels must be all -1 (unlabelled) or all class ids, got 1 of 2 set to -1" });
    assert.throws(() => writeTextFolder(path.join(dir, "w"), ["a", "b"], [0]), { message: "writeTextFolder: labels must have length 2 (one per text), got 1" });
  });
});

test("limitPerClass counts the files that read: one that is not UTF-8 is reported and the next one taken", async () => {
  await withTempDir((dir) => {
    writeTextFolder(dir, ["One. Two.", "Three.", "Four."], [0, 0, 0], { classNames: ["a"] });
    const names = fs.readdirSync(path.join(dir, "a")).sort();
    fs.writeFileSync(path.join(dir, "a", names[0]), Buffer.from([0xff, 0xfe, 0xfd]));
    const back = readTextFolder(dir, { limitPerClass: 2 });
    assert.deepEqual(back.documents.map((d) => d.text), ["Three.", "Four."]);
    assert.equal(back.skipped.length, 1);
    assert.match(back.skipped[0].reason, /^not readable as UTF-8 text: /);
  });
});
