import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { watchInterrupt } from "../../src/training/interrupt";

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

test("watchInterrupt listens from the next microtask until disposed", async () => {
  const before = process.listenerCount("SIGINT");
  const watch = watchInterrupt();
  assert.equal(process.listenerCount("SIGINT"), before, "not during the synchronous part");
  await Promise.resolve();
  assert.equal(process.listenerCount("SIGINT"), before + 1);
  assert.equal(watch.requested, false);
  process.emit("SIGINT", "SIGINT");
  assert.equal(watch.requested, true);
  watch.dispose();
  assert.equal(process.listenerCount("SIGINT"), before);
  watch.dispose(); // twice is harmless
  assert.equal(process.listenerCount("SIGINT"), before);
});

test("a watch disposed before its microtask never listens", async () => {
  const before = process.listenerCount("SIGINT");
  const watch = watchInterrupt();
  watch.dispose();
  await turn();
  assert.equal(process.listenerCount("SIGINT"), before);
});

test("a real SIGINT reaches the watch once the event loop turns", async () => {
  const extra = () => {}; // another listener, like tslab's, so a stray signal cannot kill the runner
  process.on("SIGINT", extra);
  const watch = watchInterrupt();
  try {
    await Promise.resolve();
    process.kill(process.pid, "SIGINT");
    for (let i = 0; i < 50 && !watch.requested; i++) await turn();
    assert.equal(watch.requested, true);
  } finally {
    watch.dispose();
    process.removeListener("SIGINT", extra);
  }
});

test("as the only listener, a second SIGINT ends the process as Node would", () => {
  // In a child process: the first SIGINT is absorbed, the second kills it.
  const script = `
    const { watchInterrupt } = require(${JSON.stringify(require.resolve("../../src/training/interrupt"))});
    const watch = watchInterrupt();
    setTimeout(() => { process.kill(process.pid, "SIGINT"); }, 20);
    setTimeout(() => { console.log("first:" + watch.requested); process.kill(process.pid, "SIGINT"); }, 60);
    setTimeout(() => { console.log("survived"); }, 300);
  `;
  const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 10000 });
  assert.equal(r.stdout.trim(), "first:true");
  assert.equal(r.signal, "SIGINT");
});

test("a watch started inside a breakOnSigint vm run (a tslab cell) survives the next SIGINT", () => {
  // Registering the listener synchronously there made Node kill the process on the next SIGINT.
  const script = `
    const vm = require("vm");
    const { watchInterrupt } = require(${JSON.stringify(require.resolve("../../src/training/interrupt"))});
    process.on("SIGINT", () => {}); // tslab's own listener
    globalThis.watchInterrupt = watchInterrupt;
    vm.runInThisContext("globalThis.watch = watchInterrupt()", { breakOnSigint: true });
    setTimeout(() => process.kill(process.pid, "SIGINT"), 50);
    setTimeout(() => console.log("alive:" + globalThis.watch.requested), 300);
  `;
  const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 10000 });
  assert.equal(r.signal, null);
  assert.equal(r.stdout.trim(), "alive:true");
});
