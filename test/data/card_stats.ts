/**
 * The numbers of the data cards data/mnist.md and data/brown.md, computed
 * from the source files and the loaders.
 *
 * Each card holds generated blocks between `<!-- generated:NAME -->` and
 * `<!-- /generated:NAME -->`. cards_test.ts recomputes every block and fails
 * when a card differs, so a card cannot go stale. To refresh the cards after
 * a deliberate change:
 *
 *   npx tsc -p tsconfig.json; node dist/test/data/card_stats.js --write
 *
 * Without `--write` the blocks are printed.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { BROWN_GENRES, brownSourceDir, loadBrown } from "../../src/data/brown";
import { loadMnist, mnistSourceDir } from "../../src/data/mnist";
import { digitCaptionsBlocks } from "./digit_captions_card";
import { syntheticRecordingsBlocks } from "./synthetic_recordings_card";
import { movingDigitsBlocks } from "./moving_digits_card";

/** The repository root: the nearest folder above this file whose package.json is `ssl-workbook`. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, "utf8")).name === "ssl-workbook") return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`repoRoot: no ssl-workbook package.json above ${__dirname}`);
    dir = parent;
  }
}

const fmt = (n: number): string => n.toLocaleString("en-US");
const sha256 = (buf: Buffer | Uint8Array): string => crypto.createHash("sha256").update(buf).digest("hex");

/** Bytes of all files under `dir`, recursively (the installed package's size). */
function treeBytes(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = treeBytes(p);
      files += sub.files;
      bytes += sub.bytes;
    } else if (entry.isFile()) {
      files += 1;
      bytes += fs.statSync(p).size;
    }
  }
  return { files, bytes };
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** Generated blocks of data/mnist.md, by name. */
export function mnistBlocks(): Record<string, string> {
  const dir = mnistSourceDir();
  const pkgDir = path.resolve(dir, "..", "..");
  const sourceRows: string[] = [];
  const sourceCounts: number[] = [];
  let sourceBytes = 0;
  for (let d = 0; d < 10; d++) {
    const file = path.join(dir, `${d}.json`);
    const buf = fs.readFileSync(file);
    // Counted from the raw JSON, independently of the loader.
    const count = (JSON.parse(buf.toString("utf8")).data as number[]).length / 784;
    sourceCounts.push(count);
    sourceBytes += buf.length;
    sourceRows.push(`| \`src/digits/${d}.json\` | ${d} | ${fmt(count)} | ${fmt(buf.length)} | \`${sha256(buf)}\` |`);
  }
  const total = sourceCounts.reduce((a, b) => a + b, 0);
  const pkg = treeBytes(pkgDir);
  const source = [
    "| file | digit | images | bytes | SHA-256 |",
    "|---|---:|---:|---:|---|",
    ...sourceRows,
    `| total | | ${fmt(total)} | ${fmt(sourceBytes)} | |`,
    "",
    `The installed package is ${fmt(pkg.files)} files, ${fmt(pkg.bytes)} bytes (${mb(pkg.bytes)}); ` +
      `the loader reads the ten files above, ${fmt(sourceBytes)} bytes (${mb(sourceBytes)}).`,
  ].join("\n");

  const { train, test } = loadMnist();
  const perClass = (labels: Int32Array): number[] => {
    const c = new Array(10).fill(0);
    for (const l of labels) c[l]++;
    return c;
  };
  const tr = perClass(train.labels);
  const te = perClass(test.labels);
  const split = [
    "| digit | source | train pool | test pool | test share |",
    "|---:|---:|---:|---:|---:|",
    ...sourceCounts.map(
      (n, d) => `| ${d} | ${fmt(n)} | ${fmt(tr[d])} | ${fmt(te[d])} | ${((100 * te[d]) / n).toFixed(2)}% |`,
    ),
    `| all | ${fmt(total)} | ${fmt(train.n)} | ${fmt(test.n)} | ${((100 * test.n) / total).toFixed(2)}% |`,
  ].join("\n");

  const idsDigest = (ids: Int32Array): string => sha256(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength));
  const fingerprint = [
    `- train ids (\`Int32Array\`, little-endian bytes): SHA-256 \`${idsDigest(train.ids)}\``,
    `- test ids: SHA-256 \`${idsDigest(test.ids)}\``,
    `- first test ids: ${Array.from(test.ids.slice(0, 8)).join(", ")}; first test labels: ${Array.from(test.labels.slice(0, 8)).join(", ")}`,
  ].join("\n");
  return { "mnist-source": source, "mnist-split": split, "mnist-fingerprint": fingerprint };
}

/** Generated blocks of data/brown.md, by name. */
export function brownBlocks(): Record<string, string> {
  const dir = brownSourceDir();
  const docs = loadBrown();
  // Document counts per genre come from NLTK's cats.txt, independently of the loader.
  const catDocs = new Map<string, number>();
  for (const line of fs.readFileSync(path.join(dir, "cats.txt"), "utf8").split("\n")) {
    const [, cat] = line.trim().split(/\s+/);
    if (cat !== undefined) catDocs.set(cat, (catDocs.get(cat) ?? 0) + 1);
  }
  const rows: string[] = [];
  let sTotal = 0;
  let tTotal = 0;
  for (const g of BROWN_GENRES) {
    const mine = docs.filter((d) => d.genreCode === g.code);
    const sentences = mine.reduce((a, d) => a + d.sentences.length, 0);
    const tokens = mine.reduce((a, d) => a + d.sentences.reduce((b, s) => b + s.words.length, 0), 0);
    sTotal += sentences;
    tTotal += tokens;
    rows.push(
      `| ${g.code} | \`${g.name}\` | ${g.title} | ${fmt(catDocs.get(g.name) ?? 0)} | ${fmt(sentences)} | ${fmt(tokens)} |`,
    );
  }
  const genres = [
    "| code | name | title | documents | sentences | tokens |",
    "|---|---|---|---:|---:|---:|",
    ...rows,
    `| | all | | ${fmt(docs.length)} | ${fmt(sTotal)} | ${fmt(tTotal)} |`,
  ].join("\n");

  const files = [...fs.readdirSync(dir)].filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  let bytes = 0;
  const sums: string[] = [];
  for (const f of files) {
    const buf = fs.readFileSync(path.join(dir, f));
    bytes += buf.length;
    sums.push(`${sha256(buf)}  ${f}`);
  }
  const words = new Set<string>();
  const lower = new Set<string>();
  const tags = new Set<string>();
  for (const d of docs) {
    for (const s of d.sentences) {
      s.words.forEach((w) => {
        words.add(w);
        lower.add(w.toLowerCase());
      });
      s.tags.forEach((t) => tags.add(t));
    }
  }
  const pkg = treeBytes(dir);
  const size = [
    `- The installed package is ${fmt(pkg.files)} files, ${fmt(pkg.bytes)} bytes (${mb(pkg.bytes)}); ` +
      `the loader reads the ${fmt(files.length)} document files, ${fmt(bytes)} bytes (${mb(bytes)}).`,
    `- Distinct words: ${fmt(words.size)} as written, ${fmt(lower.size)} lower-cased. Distinct tags: ${fmt(tags.size)}.`,
  ].join("\n");
  const checksums = ["```", ...sums, "```"].join("\n");
  return { "brown-genres": genres, "brown-size": size, "brown-sha256": checksums };
}

const BLOCK = /<!-- generated:([a-z0-9-]+) -->\n([\s\S]*?)\n?<!-- \/generated:\1 -->/g;

/** The generated blocks found in a card, by name. */
export function readBlocks(markdown: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of markdown.matchAll(BLOCK)) out[m[1]] = m[2];
  return out;
}

/** `markdown` with each named block replaced by its new content; throws if a block is missing. */
export function replaceBlocks(markdown: string, blocks: Record<string, string>): string {
  const found = readBlocks(markdown);
  for (const name of Object.keys(blocks)) {
    if (!(name in found)) throw new Error(`replaceBlocks: the card has no block generated:${name}`);
  }
  return markdown.replace(BLOCK, (all, name: string) =>
    name in blocks ? `<!-- generated:${name} -->\n${blocks[name]}\n<!-- /generated:${name} -->` : all,
  );
}

/** The cards and their block generators. */
export const CARDS: readonly { file: string; blocks: () => Record<string, string> }[] = [
  { file: "data/mnist.md", blocks: mnistBlocks },
  { file: "data/brown.md", blocks: brownBlocks },
  { file: "data/digit-captions.md", blocks: digitCaptionsBlocks },
  { file: "data/synthetic-recordings.md", blocks: syntheticRecordingsBlocks },
  { file: "data/moving-digits.md", blocks: movingDigitsBlocks },
];

if (require.main === module) {
  const write = process.argv.includes("--write");
  for (const card of CARDS) {
    const blocks = card.blocks();
    if (write) {
      const file = path.join(repoRoot(), card.file);
      fs.writeFileSync(file, replaceBlocks(fs.readFileSync(file, "utf8"), blocks));
      console.log(`updated ${card.file}`);
    } else {
      for (const [name, text] of Object.entries(blocks)) console.log(`<!-- generated:${name} -->\n${text}\n<!-- /generated:${name} -->\n`);
    }
  }
}
