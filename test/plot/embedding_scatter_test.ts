import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import "../../src/backend/select";
import { tf } from "../../src/backend/tf";
import { embeddingScatter } from "../../src/plot/embedding_scatter";
import { COLORWAY } from "../../src/plot/figure";
import { crc32 } from "../../src/plot/png";
import { toMimeBundle } from "../../src/plot/mimeBundle";
import { createRng } from "../../src/data/random";
import { dataUriBytes, decodePng } from "./helpers";

type Img = { source: string; x: number; y: number; sizex: number; sizey: number; xref: string; yref: string; xanchor: string; yanchor: string };

test("embeddingScatter: one trace per class with its colour and name; hover shows class, index and the escaped item text", () => {
  const points = [[0, 0], [1, 1], [2, 0], [3, 3], [4, 1]];
  const fig = embeddingScatter(points, {
    labels: [2, 0, 2, 11, 0],
    classNames: ["zero", "one", "two", "three", "4", "5", "6", "7", "8", "9", "10", "eleven"],
    hoverText: ["a", "b<c", "c", "d & e", "f"],
    title: "demo",
  });
  assert.deepEqual(fig.data.map((t) => t.name), ["zero", "two", "eleven"]);
  assert.deepEqual(fig.data.map((t) => (t.marker as { color: string }).color), [COLORWAY[0], COLORWAY[2], COLORWAY[1]]);
  assert.deepEqual(fig.data.map((t) => [t.x, t.y]), [[[1, 4], [1, 1]], [[0, 2], [0, 0]], [[3], [3]]]);
  assert.deepEqual(fig.data.map((t) => t.customdata), [[1, 4], [0, 2], [3]]);
  assert.deepEqual(fig.data.map((t) => t.text), [["b&lt;c", "f"], ["a", "c"], ["d &amp; e"]]);
  for (const t of fig.data) assert.match(t.hovertemplate as string, /%\{fullData\.name\}.*#%\{customdata\}.*%\{text\}/);
  assert.equal(fig.layout.showlegend, true);
  assert.deepEqual(fig.layout.title, { text: "demo" });
  assert.equal((fig.layout.yaxis as { scaleanchor: string }).scaleanchor, "x");
  assert.equal(fig.layout.images, undefined);
  // Names as labels: colours by first appearance; no hover text: the template has no %{text}.
  const named = embeddingScatter(new Float32Array([0, 0, 1, 1, 2, 2]), { labels: ["cat", "dog", "cat"] });
  assert.deepEqual(named.data.map((t) => [t.name, (t.marker as { color: string }).color, t.customdata]), [["cat", COLORWAY[0], [0, 2]], ["dog", COLORWAY[1], [1]]]);
  assert.doesNotMatch(named.data[0].hovertemplate as string, /%\{text\}/);
  const plain = embeddingScatter([[0, 1], [2, 3]]);
  assert.equal(plain.data.length, 1);
  assert.equal(plain.layout.showlegend, false);
});

test("embeddingScatter: thumbnails are PNG data URIs of the right images, centred on their points, a seeded sample", () => {
  const rng = createRng(3);
  const n = 30, h = 3, w = 4;
  const points = Array.from({ length: n }, (_, i) => [i, 2 * Math.sin(i)]);
  for (const c of [1, 3] as const) {
    const images = Float32Array.from({ length: n * h * w * c }, () => Math.round(rng.next() * 255) / 255);
    const fig = embeddingScatter(points, { thumbnails: { images, shape: [h, w, c], count: 7, seed: 5 } });
    const placed = fig.layout.images as Img[];
    assert.equal(placed.length, 7);
    const indices = placed.map((img) => points.findIndex((p) => p[0] === img.x));
    assert.equal(new Set(indices).size, 7);
    // Default width: 6% of the wider range (x spans 29), height from the aspect ratio.
    for (const [k, img] of placed.entries()) {
      const i = indices[k];
      assert.equal(img.y, points[i][1]);
      assert.deepEqual([img.xref, img.yref, img.xanchor, img.yanchor], ["x", "y", "center", "middle"]);
      assert.ok(Math.abs(img.sizex - 0.06 * 29) < 1e-12 && Math.abs(img.sizey - (img.sizex * h) / w) < 1e-12);
      const png = decodePng(dataUriBytes(img.source), crc32);
      assert.deepEqual([png.width, png.height, png.channels], [w, h, c]);
      const expected = Array.from(images.subarray(i * h * w * c, (i + 1) * h * w * c), (v) => Math.round(v * 255));
      assert.deepEqual(Array.from(png.pixels), expected);
    }
    const again = embeddingScatter(points, { thumbnails: { images, shape: [h, w, c], count: 7, seed: 5 } });
    assert.deepEqual(again.layout.images, fig.layout.images);
    const other = embeddingScatter(points, { thumbnails: { images, shape: [h, w, c], count: 7, seed: 6 } });
    assert.notDeepEqual((other.layout.images as Img[]).map((img) => img.x), placed.map((img) => img.x));
  }
  const all = embeddingScatter(points.slice(0, 2), { thumbnails: { images: new Float32Array(2 * 4), shape: [2, 2, 1], size: 0.5 } });
  assert.deepEqual((all.layout.images as Img[]).map((img) => [img.x, img.sizex, img.sizey]), [[0, 0.5, 0.5], [1, 0.5, 0.5]]);
});

test("embeddingScatter reads a tensor without leaking and rejects bad input naming the argument", async () => {
  await tf.setBackend("wasm");
  const t = tf.tensor2d([[0, 1], [2, 3], [4, 5]]);
  const labels = tf.tensor1d([1, 0, 1], "int32");
  const before = tf.memory().numTensors;
  const fig = embeddingScatter(t, { labels });
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(fig.data.map((d) => d.x), [[2], [0, 4]]);
  tf.dispose([t, labels]);
  const p = [[0, 0], [1, 1]];
  assert.throws(() => embeddingScatter([[0, 0, 0]]), /embeddingScatter: points must have shape \[n, 2\] \(or 2n flat values\), got \[1,3\]/);
  assert.throws(() => embeddingScatter([[0, NaN]]), /embeddingScatter: points must be finite, got NaN at flat index 1/);
  assert.throws(() => embeddingScatter(p, { hoverText: ["a"] }), /embeddingScatter: options.hoverText must have shape \[2\], got \[1\]/);
  assert.throws(() => embeddingScatter(p, { labels: [0] }), /embeddingScatter: options.labels must have shape \[2\], got \[1\]/);
  assert.throws(() => embeddingScatter(p, { labels: [0, 3], classNames: ["a", "b"] }), /embeddingScatter: options.classNames has 2 names, but labels hold class id 3/);
  const images = new Float32Array(2 * 4);
  assert.throws(() => embeddingScatter(p, { thumbnails: { images, shape: [2, 2, 2] } }), /embeddingScatter: options.thumbnails.shape must be \[h, w, c\] with positive integers and c 1 or 3, got \[2,2,2\]/);
  assert.throws(() => embeddingScatter(p, { thumbnails: { images, shape: [2, 3, 1] } }), /options.thumbnails.images must hold one \[2, 3, 1\] image per point, 2 x 6 = 12 values, got 8/);
  assert.throws(() => embeddingScatter(p, { thumbnails: { images, shape: [2, 2, 1], count: 3 } }), /embeddingScatter: options.thumbnails.count must be an integer in \[0, 2\], got 3/);
  assert.throws(() => embeddingScatter(p, { thumbnails: { images: images.map((_, i) => (i === 5 ? 1.5 : 0)), shape: [2, 2, 1] } }), /embeddingScatter: options.thumbnails.images values must lie in \[0, 1\], got 1.5 in image 1/);
  assert.throws(() => embeddingScatter(p, { thumbnails: { images, shape: [2, 2, 1], size: 0 } }), /embeddingScatter: options.thumbnails.size must be a finite number > 0, got 0/);
  assert.throws(() => embeddingScatter(p, { markerSize: -1 }), /embeddingScatter: options.markerSize must be a finite number > 0, got -1/);
});

const chromium = ["chromium", "chromium-browser", "google-chrome"]
  .flatMap((name) => [process.env.CHROME_BIN ?? "", ...(process.env.PATH ?? "").split(path.delimiter).map((d) => path.join(d, name))])
  .find((file) => file !== "" && fs.existsSync(file));

test("embeddingScatter renders in Chromium: every point, one trace per class, every thumbnail", { skip: chromium || process.env.CI ? false : "no Chromium found (set CHROME_BIN)" }, () => {
  const n = 40;
  const points = Array.from({ length: n }, (_, i) => [Math.cos(i), 2 * Math.sin(i)]);
  const images = Float32Array.from({ length: n * 64 }, (_, k) => (k % 8) / 7);
  const fig = embeddingScatter(points, { labels: points.map((_, i) => i % 3), hoverText: points.map((_, i) => `item <${i}>`), thumbnails: { images, shape: [8, 8, 1], count: 10 } });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "embedding-render-"));
  try {
    const page = path.join(dir, "page.html");
    fs.writeFileSync(page, `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>${toMimeBundle(fig, { includeLibrary: true, elementId: "e" })["text/html"]}</body></html>`);
    assert.ok(chromium, "no Chromium found (set CHROME_BIN)");
    const dom = execFileSync(
      chromium,
      ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run",
        `--user-data-dir=${path.join(dir, "profile")}`, "--window-size=1200,900", "--virtual-time-budget=3000", "--dump-dom", `file://${page}`],
      { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 60_000, stdio: ["ignore", "pipe", "ignore"] },
    ).replace(/<script[\s\S]*?<\/script>/g, "");
    assert.match(dom, /data-drawn="1"/);
    assert.equal((dom.match(/class="trace scatter/g) ?? []).length, 3);
    assert.equal((dom.match(/class="point[ "]/g) ?? []).length, n);
    assert.equal((dom.match(/<image [^>]*href="data:image\/png;base64,/g) ?? []).length, 10);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
