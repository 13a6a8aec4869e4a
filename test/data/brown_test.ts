import { test } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  BROWN_GENRES,
  BROWN_SHA256,
  brownSentences,
  brownSourceDir,
  brownTokens,
  isPunctuationTag,
  loadBrown,
} from "../../src/data/brown";

// Reference numbers from NLTK 3.8 (Debian python3-nltk 3.8-1) reading the same files:
//   r = CategorizedTaggedCorpusReader(dir, r"c[a-z]\d\d", cat_file="cats.txt", tagset="brown")
//   len(r.fileids()), len(r.sents()), len(r.words()) -> 500, 57340, 1161192
// STREAM_SHA256 hashes, file by file and sentence by sentence, "\n".join(word + "\t" + tag) + "\n\n".
const NLTK = {
  documents: 500,
  sentences: 57340,
  tokens: 1161192,
  streamSha256: "237545fbd36911a52360ead0df358b390b0bc9f173b41e33796b5f47e95d25c4",
  // Per genre: [documents, sentences, tokens].
  genres: {
    adventure: [29, 4637, 69342],
    belles_lettres: [75, 7209, 173096],
    editorial: [27, 2997, 61604],
    fiction: [29, 4249, 68488],
    government: [30, 3032, 70117],
    hobbies: [36, 4193, 82345],
    humor: [9, 1053, 21695],
    learned: [80, 7734, 181888],
    lore: [48, 4881, 110299],
    mystery: [24, 3886, 57169],
    news: [44, 4623, 100554],
    religion: [17, 1716, 39399],
    reviews: [17, 1751, 40704],
    romance: [29, 4431, 70022],
    science_fiction: [6, 948, 14470],
  } as Record<string, [number, number, number]>,
  // Tokens whose tag, without -HL/-TL/-NC suffixes, is punctuation.
  punctuation: 147565,
};

test("the corpus has NLTK's documents, sentences, words and tags, in order", () => {
  const docs = loadBrown();
  assert.equal(docs.length, NLTK.documents);
  const hash = crypto.createHash("sha256");
  let sentences = 0;
  let tokens = 0;
  for (const doc of docs) {
    for (const s of doc.sentences) {
      assert.equal(s.words.length, s.tags.length);
      hash.update(s.words.map((w, i) => `${w}\t${s.tags[i]}`).join("\n") + "\n\n");
      sentences++;
      tokens += s.words.length;
    }
  }
  assert.equal(sentences, NLTK.sentences);
  assert.equal(tokens, NLTK.tokens);
  assert.equal(hash.digest("hex"), NLTK.streamSha256);
  for (const [name, [d, s, t]] of Object.entries(NLTK.genres)) {
    const mine = loadBrown({ genres: [name] });
    assert.equal(mine.length, d, name);
    assert.equal(brownSentences(mine).length, s, name);
    assert.equal(brownTokens(mine).length, t, name);
  }
});

test("each document's genre agrees with NLTK's cats.txt", () => {
  const cats = new Map<string, string>();
  for (const line of fs.readFileSync(path.join(brownSourceDir(), "cats.txt"), "utf8").trim().split("\n")) {
    const [id, cat] = line.trim().split(/\s+/);
    cats.set(id, cat);
  }
  const docs = loadBrown();
  assert.equal(cats.size, docs.length);
  for (const doc of docs) {
    assert.equal(doc.genre, cats.get(doc.id), doc.id);
    assert.equal(doc.genreCode, doc.id[1].toUpperCase());
  }
  assert.deepEqual(
    BROWN_GENRES.map((g) => g.code).join(""),
    "ABCDEFGHJKLMNPR",
  );
});

test("tokens split at the last slash and tags are upper-cased", () => {
  const [ca01] = loadBrown({ genres: ["A"] });
  assert.equal(ca01.id, "ca01");
  assert.deepEqual(ca01.sentences[0].words.slice(0, 5), ["The", "Fulton", "County", "Grand", "Jury"]);
  assert.deepEqual(ca01.sentences[0].tags.slice(0, 5), ["AT", "NP-TL", "NN-TL", "JJ-TL", "NN-TL"]);
  const pairs = new Map<string, string>();
  for (const doc of loadBrown()) for (const s of doc.sentences) s.words.forEach((w, i) => pairs.set(w, s.tags[i]));
  assert.equal(pairs.get("1-1/2"), "CD");
  assert.equal(pairs.get("/"), "IN");
  assert.equal(pairs.get("/l/"), "NN");
  for (const tag of new Set(pairs.values())) assert.equal(tag, tag.toUpperCase());
});

test("genres are chosen by name or code, in corpus order", () => {
  const byName = loadBrown({ genres: ["editorial", "news"] });
  assert.equal(byName.length, 44 + 27);
  assert.deepEqual(
    byName.map((d) => d.id),
    loadBrown().filter((d) => d.genre === "news" || d.genre === "editorial").map((d) => d.id),
  );
  assert.deepEqual(loadBrown({ genres: ["A", "b"] }).map((d) => d.id), byName.map((d) => d.id));
  assert.deepEqual(loadBrown({ genres: ["M"] }).map((d) => d.id), ["cm01", "cm02", "cm03", "cm04", "cm05", "cm06"]);
});

test("an unknown genre throws, listing the valid ones", () => {
  assert.throws(
    () => loadBrown({ genres: ["news", "poetry"] }),
    (e: Error) => {
      assert.match(e.message, /^loadBrown: unknown genre "poetry"; valid genres are news \(A\), editorial \(B\)/);
      for (const g of BROWN_GENRES) assert.ok(e.message.includes(`${g.name} (${g.code})`), g.name);
      return true;
    },
  );
  assert.throws(() => loadBrown({ genres: ["I"] }), /unknown genre "I"/);
  assert.throws(() => loadBrown({ genres: [] }), /loadBrown: genres must be a non-empty array/);
});

test("lowercase and dropPunctuation", () => {
  const docs = loadBrown();
  const lower = brownTokens(docs, { lowercase: true });
  const raw = brownTokens(docs);
  assert.equal(lower.length, raw.length);
  lower.forEach((w, i) => assert.equal(w, raw[i].toLowerCase()));
  const words = brownTokens(docs, { dropPunctuation: true });
  assert.equal(words.length, NLTK.tokens - NLTK.punctuation);
  const sentences = brownSentences(docs, { dropPunctuation: true, lowercase: true });
  assert.equal(sentences.length, NLTK.sentences);
  assert.deepEqual(sentences[0].slice(0, 3), ["the", "fulton", "county"]);
  // Tags decide, not spellings: the one comma left is tagged FW-RB-TL in the corpus.
  assert.equal(words.filter((w) => w === ",").length, 1);
  assert.ok(words.includes("not"), "the negator (tag *) is a word");
  assert.ok(isPunctuationTag(".-HL") && isPunctuationTag("``") && isPunctuationTag("'"));
  assert.ok(!isPunctuationTag("*") && !isPunctuationTag("NN") && !isPunctuationTag("PPSS+MD"));
});

test("documents are shared and frozen", () => {
  const [a] = loadBrown();
  const [b] = loadBrown();
  assert.equal(a, b);
  assert.throws(() => {
    (a.sentences[0].words as string[])[0] = "X";
  }, TypeError);
  assert.throws(() => {
    (a.sentences as unknown as unknown[]).push(null);
  }, TypeError);
});

test("a document file with the wrong checksum is named in the error", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "brown-"));
  try {
    for (const id of BROWN_SHA256.keys()) fs.copyFileSync(path.join(brownSourceDir(), id), path.join(dir, id));
    const file = path.join(dir, "cb07");
    fs.writeFileSync(file, fs.readFileSync(file, "latin1").replace("/nn", "/vb"), "latin1");
    assert.throws(
      () => loadBrown({ sourceDir: dir }),
      /^Error: loadBrown: source file .*cb07 has SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test("the checksum table lists the files of cats.txt in corpus order and ships with the compiled loader", () => {
  const ids = fs
    .readFileSync(path.join(brownSourceDir(), "cats.txt"), "utf8")
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[0]);
  assert.deepEqual([...BROWN_SHA256.keys()], ids);
  for (const [id, digest] of BROWN_SHA256) assert.match(digest, /^[0-9a-f]{64}$/, id);
  // The loader reads the table beside its compiled module (dist/src/data), the folder the package ships.
  const compiled = path.join(path.dirname(require.resolve("../../src/data/brown")), "brown-sha256.json");
  assert.ok(fs.existsSync(compiled), `${compiled} exists`);
});
