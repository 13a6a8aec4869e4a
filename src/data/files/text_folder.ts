/**
 * A researcher's own texts: `.txt` files (UTF-8) in the ImageFolder layout
 * (`root/<class>/<file>.txt`, or files directly in `root`), as documents for
 * the character-level methods and as a {@link SentenceSet} of tokenised
 * sentences for the sentence-embedding methods (`sentenceVocab`,
 * `padSentences`, `sentenceBatches`, `neighbourBatches`), the shape
 * `brownSentenceSplit` gives for the Brown corpus.
 */
import * as fs from "fs";
import * as path from "path";
import type { BrownSentence, SentenceDocument, SentenceSet } from "../brown_sentences";
import { decodeListing, itemFileName, listFolder, normalizeExtensions, prepareFolders, type SkippedFile } from "./folder_layout";
import { checkOptions, checkPositiveInteger, describe } from "../../validation/arguments";

/** One text file. */
export interface TextDocument {
  /** The file's text, as read (UTF-8, a byte-order mark removed). */
  readonly text: string;
  /** Path of the file. */
  readonly file: string;
  /** Class id into `classNames`; -1 in an unlabelled folder. */
  readonly label: number;
}

/** Options of {@link readTextFolder}. */
export interface ReadTextFolderOptions {
  /** Lower-case every word of the sentences; default true (as `brownSentenceSplit`). `documents` keep the text as written. */
  lowercase?: boolean;
  /** Leave punctuation tokens out of the sentences; default false (as Brown). A sentence left with no word is dropped. */
  dropPunctuation?: boolean;
  /** File extensions read, case-insensitive; default `[".txt"]`. */
  extensions?: readonly string[];
  /** Read at most this many files per class (the first in sorted order that read); default all. */
  limitPerClass?: number;
}

/** What {@link readTextFolder} returns. */
export interface TextFolderSet {
  /** `[files]` in class order, then sorted path order. */
  readonly documents: TextDocument[];
  /**
   * The documents' sentences as the sentence methods take them: each
   * sentence's `documentId` is its file path, `genre` its class name ("" when
   * unlabelled) and `group` its class id (-1 when unlabelled), so a probe of
   * `group` is a probe of the folder's classes.
   */
  readonly sentences: SentenceSet;
  /** Class folder names, sorted; empty when unlabelled. */
  readonly classNames: string[];
  /** False for a folder without class folders. */
  readonly labelled: boolean;
  /** Files not read: another extension, hidden, or not valid UTF-8. */
  readonly skipped: SkippedFile[];
}

/** Options of {@link writeTextFolder}. */
export interface WriteTextFolderOptions {
  /** Folder name of each class id, sorted; default the ids zero-padded. */
  classNames?: readonly string[];
}

// A word: letters and digits, with inner apostrophes ("don't") and hyphens ("well-known")
// kept, as Brown tokens keep them; any other non-space character is a token of its own.
const TOKEN = /[\p{L}\p{N}]+(?:['’\-][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]/gu;
const SENTENCE_END = /^[.!?]$/;

/**
 * Splits a text into sentences of tokens: words (letters and digits, inner
 * apostrophes and hyphens kept) and single punctuation marks, as Brown
 * tokens are. A sentence ends after a run of `.`, `!` or `?` (with the
 * closing quotes ” ’ or brackets that follow; a plain `"` after the stop
 * starts the next sentence) and at a blank line. Abbreviations
 * ("Dr. Smith") end a sentence too: the rule is simple, not a trained splitter.
 *
 * Shapes: one `string[]` per sentence.
 *
 * @example
 * splitSentences("The cat sat. Did it?\n\nYes"); // [["The","cat","sat","."],["Did","it","?"],["Yes"]]
 */
export function splitSentences(text: string): string[][] {
  if (typeof text !== "string") throw new Error(`splitSentences: text must be a string, got ${describe(text)}`);
  const sentences: string[][] = [];
  for (const paragraph of text.split(/\r?\n\s*\r?\n/)) {
    let current: string[] = [];
    let ended = false;
    for (const token of paragraph.match(TOKEN) ?? []) {
      const closing = /^[’”)\]]$/.test(token);
      if (ended && !SENTENCE_END.test(token) && !closing) {
        sentences.push(current);
        current = [];
        ended = false;
      }
      current.push(token);
      if (SENTENCE_END.test(token)) ended = true;
    }
    if (current.length > 0) sentences.push(current);
  }
  return sentences;
}

/**
 * Reads `.txt` files in the ImageFolder layout: `root/<class>/<file>.txt`
 * (label = index of the sorted class folder name) or, with no class
 * folders, the files in `root` (labels -1). Gives the documents as written,
 * for character models, and their sentences ({@link splitSentences},
 * lower-cased by default) as a {@link SentenceSet}, each document's
 * sentences contiguous and in order, for sentence embeddings.
 *
 * Skipped and listed: other extensions, hidden files, files that are not
 * valid UTF-8. Errors: `root` missing; a class folder with no text file
 * (named); no text file.
 *
 * Shapes: `documents` `[files]`, `sentences.sentences` `[sentences]`.
 *
 * @example
 * const reviews = readTextFolder("reviews"); // reviews/neg/001.txt, ..., reviews/pos/001.txt, ...
 * const vocab = sentenceVocab(reviews.sentences.sentences, { maxWords: 5000 });
 * const chars = buildCharVocab(reviews.documents.map((d) => d.text));
 */
export function readTextFolder(root: string, options: ReadTextFolderOptions = {}): TextFolderSet {
  const fn = "readTextFolder";
  checkOptions(fn, options, "{lowercase?, dropPunctuation?, extensions?, limitPerClass?}");
  const { lowercase = true, dropPunctuation = false, limitPerClass } = options;
  for (const [name, value] of [["lowercase", lowercase], ["dropPunctuation", dropPunctuation]] as const) {
    if (typeof value !== "boolean") throw new Error(`${fn}: options.${name} must be true or false, got ${describe(value)}`);
  }
  if (limitPerClass !== undefined) checkPositiveInteger(fn, "options.limitPerClass", limitPerClass);
  const listing = listFolder(fn, root, normalizeExtensions(fn, options.extensions ?? [".txt"]));
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const read = decodeListing(listing, (file) => decoder.decode(fs.readFileSync(file)), "not readable as UTF-8 text", limitPerClass);
  const skipped = read.skipped;
  const documents: TextDocument[] = read.items.map((text, i) => ({ text, file: read.files[i], label: read.labels[i] }));
  if (documents.length === 0) throw new Error(`${fn}: root ${JSON.stringify(root)} holds no readable text file`);
  const sentences: BrownSentence[] = [];
  const docs: SentenceDocument[] = [];
  documents.forEach((doc, document) => {
    const genre = doc.label >= 0 ? listing.classNames[doc.label] : "";
    const start = sentences.length;
    for (const tokens of splitSentences(doc.text)) {
      const words = tokens.filter((t) => !dropPunctuation || /[\p{L}\p{N}]/u.test(t)).map((t) => (lowercase ? t.toLowerCase() : t));
      if (words.length === 0) continue;
      sentences.push(Object.freeze({ words: Object.freeze(words), documentId: doc.file, document, position: sentences.length - start, genre, group: doc.label }));
    }
    docs.push(Object.freeze({ id: doc.file, genre, group: doc.label, start, count: sentences.length - start }));
  });
  return { documents, sentences: { sentences, documents: docs }, classNames: listing.classNames.slice(), labelled: listing.labelled, skipped };
}

/**
 * Writes texts in the ImageFolder layout, UTF-8: text i goes to
 * `root/<classNames[labels[i]]>/<i>.txt` (i zero-padded), or to `root/<i>.txt`
 * when `labels` is omitted or all -1. {@link readTextFolder} reads them back
 * in class order, then in the given order within a class.
 * A class with no item gets no folder, so reading back then numbers only
 * the classes present.
 *
 * Errors: `root` exists and is not empty; `labels` not one per text; labels
 * mixing -1 and class ids; class names not sorted folder names.
 *
 * Shapes: `texts` `[n]`, `labels` `[n]`.
 *
 * @example
 * writeTextFolder("news-sample", passages.map((p) => p.text), Int32Array.from(passages, (p) => p.group), { classNames: ["0_press", "1_fiction"] });
 */
export function writeTextFolder(root: string, texts: readonly string[], labels?: ArrayLike<number>, options: WriteTextFolderOptions = {}): void {
  const fn = "writeTextFolder";
  if (!Array.isArray(texts) || texts.length === 0 || texts.some((t) => typeof t !== "string")) {
    throw new Error(`${fn}: texts must be a non-empty array of strings, got ${describe(texts)}`);
  }
  checkOptions(fn, options, "{classNames?}");
  const ids = labels ?? new Int32Array(texts.length).fill(-1);
  if (ids.length !== texts.length) throw new Error(`${fn}: labels must have length ${texts.length} (one per text), got ${ids.length}`);
  const dirs = prepareFolders(fn, root, ids, options.classNames);
  texts.forEach((text, i) => fs.writeFileSync(path.join(dirs[i], itemFileName(i, texts.length, ".txt")), text, "utf8"));
}
