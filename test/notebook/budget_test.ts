import { test } from "node:test";
import assert from "node:assert/strict";
import { budget, budgetName, BUDGET_ENV_VAR } from "../../src/notebook/budget";
import { notebook } from "../../src";

test("budget: quick by default and when asked, full only for 'full'", () => {
  assert.equal(BUDGET_ENV_VAR, "SSL_WORKBOOK_BUDGET");
  assert.equal(budget({ quick: 1, full: 10 }, {}), 1);
  assert.equal(budget({ quick: 1, full: 10 }, { SSL_WORKBOOK_BUDGET: "" }), 1);
  assert.equal(budget({ quick: 1, full: 10 }, { SSL_WORKBOOK_BUDGET: "quick" }), 1);
  assert.equal(budget({ quick: 1, full: 10 }, { SSL_WORKBOOK_BUDGET: "full" }), 10);
  assert.equal(budgetName({}), "quick");
  assert.equal(budgetName({ SSL_WORKBOOK_BUDGET: "quick" }), "quick");
  assert.equal(budgetName({ SSL_WORKBOOK_BUDGET: "full", OTHER: "x" }), "full");
});

test("budget: objects come back as given, the same object", () => {
  const quick = { epochs: 1, trainSize: 2000 };
  const full = { epochs: 10, trainSize: 60000 };
  assert.equal(budget({ quick, full }, { SSL_WORKBOOK_BUDGET: "full" }), full);
  assert.equal(budget({ quick, full }, {}), quick);
  // Falsy choices are values like any other.
  assert.equal(budget({ quick: 0, full: 5 }, {}), 0);
  assert.equal(budget({ quick: false, full: true }, { SSL_WORKBOOK_BUDGET: "full" }), true);
});

test("budget: reads process.env when no env is passed", () => {
  const before = process.env.SSL_WORKBOOK_BUDGET;
  try {
    process.env.SSL_WORKBOOK_BUDGET = "full";
    assert.equal(budgetName(), "full");
    assert.equal(notebook.budget({ quick: "a", full: "b" }), "b");
    delete process.env.SSL_WORKBOOK_BUDGET;
    assert.equal(notebook.budgetName(), "quick");
    assert.equal(budget({ quick: "a", full: "b" }), "a");
  } finally {
    if (before === undefined) delete process.env.SSL_WORKBOOK_BUDGET;
    else process.env.SSL_WORKBOOK_BUDGET = before;
  }
});

test("budget: any other value is an error naming the variable, its value and the allowed values", () => {
  assert.throws(() => budget({ quick: 1, full: 2 }, { SSL_WORKBOOK_BUDGET: "FULL" }), /^Error: budgetName: SSL_WORKBOOK_BUDGET must be "quick" or "full" \(or unset for quick\), got "FULL"$/);
  assert.throws(() => budgetName({ SSL_WORKBOOK_BUDGET: "long" }), /budgetName: SSL_WORKBOOK_BUDGET must be "quick" or "full" \(or unset for quick\), got "long"/);
  assert.throws(() => budget({ quick: 1 } as never, {}), /budget: choices.full must be given, got undefined/);
  assert.throws(() => budget({ full: 1 } as never, {}), /budget: choices.quick must be given, got undefined/);
  assert.throws(() => budget(null as never, {}), /budget: choices must be an object \{quick, full\}, got null/);
});
