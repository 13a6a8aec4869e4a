import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFINITIONAL_GENDER_PAIRS, EQUALIZE_GENDER_PAIRS, WEAT_TESTS } from "../../src/data/weat_word_sets";

test("WEAT word sets: lowercase, no repeats, X and Y (and A and B) of equal sizes as in the paper", () => {
  assert.deepEqual(Object.keys(WEAT_TESTS), ["weat1", "weat2", "weat6", "weat7", "weat8", "weat9", "weat10"]);
  for (const [id, t] of Object.entries(WEAT_TESTS)) {
    assert.equal(t.id, id);
    assert.equal(t.names.length, 4);
    for (const key of ["x", "y", "a", "b"] as const) {
      const list = t[key];
      assert.ok(list.length >= 6, `${id}.${key}`);
      assert.equal(new Set(list).size, list.length, `${id}.${key} repeats a word`);
      for (const w of list) assert.equal(w, w.toLowerCase(), `${id}.${key}: ${w}`);
    }
    assert.equal(t.x.length, t.y.length, id);
    assert.equal(t.a.length, t.b.length, id);
    assert.ok(t.paperEffectSize > 1 && t.paperEffectSize < 2, id);
  }
  assert.equal(WEAT_TESTS.weat1.x.length, 25);
  assert.ok(Object.isFrozen(WEAT_TESTS.weat1.x));
});

test("gender pairs: (female, male), lowercase, every word once per list", () => {
  assert.equal(DEFINITIONAL_GENDER_PAIRS.length, 10);
  assert.deepEqual(DEFINITIONAL_GENDER_PAIRS[2], ["she", "he"]);
  for (const pairs of [DEFINITIONAL_GENDER_PAIRS, EQUALIZE_GENDER_PAIRS]) {
    const words = pairs.flat();
    assert.equal(new Set(words).size, words.length);
    for (const w of words) assert.match(w, /^[a-z]+$/);
  }
});
