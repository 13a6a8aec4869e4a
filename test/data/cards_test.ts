import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { BROWN_SHA256 } from "../../src/data/brown";
import { MNIST_SHA256 } from "../../src/data/mnist";
import { CARDS, readBlocks, repoRoot } from "./card_stats";

const refresh = "refresh with: npx tsc -p tsconfig.json; node dist/test/data/card_stats.js --write";

for (const card of CARDS) {
  test(`${card.file}: every generated block matches the data`, () => {
    const markdown = fs.readFileSync(path.join(repoRoot(), card.file), "utf8");
    const found = readBlocks(markdown);
    const fresh = card.blocks();
    assert.deepEqual(Object.keys(found).sort(), Object.keys(fresh).sort(), `${card.file} blocks; ${refresh}`);
    for (const [name, text] of Object.entries(fresh)) {
      assert.equal(found[name], text, `${card.file} block ${name} is stale; ${refresh}`);
    }
  });
}

test("the cards list the same checksums the loaders verify", () => {
  const mnist = fs.readFileSync(path.join(repoRoot(), "data/mnist.md"), "utf8");
  for (const [name, digest] of Object.entries(MNIST_SHA256)) {
    assert.ok(mnist.includes(`| \`src/digits/${name}\` | ${name[0]} |`) && mnist.includes(`\`${digest}\``), name);
  }
  const listed = new Map<string, string>();
  for (const m of fs.readFileSync(path.join(repoRoot(), "data/brown.md"), "utf8").matchAll(/^([0-9a-f]{64}) {2}(c[a-r]\d\d)$/gm)) {
    listed.set(m[2], m[1]);
  }
  assert.deepEqual(listed, new Map(BROWN_SHA256));
});
