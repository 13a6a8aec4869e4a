import { tslabKernel } from "../../src/notebook/kernel";
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createProgress,
  detectProgressMode,
  formatDuration,
  ProgressState,
  renderProgressHtml,
  renderProgressText,
} from "../../src/training/progress";

const running = (over: Partial<ProgressState> = {}): ProgressState => ({
  label: "simclr",
  step: 120,
  total: 1000,
  epoch: 2,
  epochs: 5,
  loss: 0.43125,
  rate: 1534.4,
  rateUnit: "items/s",
  elapsedSeconds: 12,
  etaSeconds: 90,
  status: "running",
  ...over,
});

/** A stream that records what was written. */
function recorder(isTTY: boolean, columns = 120) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns, write: (s: string) => writes.push(s) } };
}

test("formatDuration writes m:ss and h:mm:ss", () => {
  assert.equal(formatDuration(0), "0:00");
  assert.equal(formatDuration(75), "1:15");
  assert.equal(formatDuration(3599.6), "1:00:00");
  assert.equal(formatDuration(3725), "1:02:05");
  assert.equal(formatDuration(NaN), "?");
});

test("renderProgressText shows step/total, epoch, loss, rate, elapsed and ETA", () => {
  const text = renderProgressText(running(), 120);
  assert.match(text, /^simclr \[#{2}-{18}\] /); // 120/1000 of 20 cells rounds to 2
  for (const part of ["120/1000", "epoch 2/5", "loss 0.4313", "1534 items/s", "0:12 elapsed, ETA 1:30"]) {
    assert.ok(text.includes(part), `${part} in ${text}`);
  }
  assert.ok(text.length <= 120, `fits the width: ${text.length}`);
});

test("renderProgressText drops the bar when narrow, and states how the run ended", () => {
  const narrow = renderProgressText(running(), 60);
  assert.ok(!narrow.includes("["), narrow);
  const stopped = renderProgressText(running({ status: "interrupted", note: "checkpoint saved at step 120" }), 200);
  assert.ok(stopped.endsWith("interrupted at step 120; checkpoint saved at step 120"), stopped);
  assert.ok(!stopped.includes("ETA"), "no ETA once stopped");
  const unknown = renderProgressText(running({ total: undefined, epochs: undefined }), 200);
  assert.ok(unknown.includes("step 120") && unknown.includes("epoch 2 ") && !unknown.includes("["), unknown);
});

test("renderProgressHtml draws the fraction, escapes the label and colours the status", () => {
  const html = renderProgressHtml(running({ label: "<b>x</b>" }));
  assert.ok(html.includes("width:12.0%"), html);
  assert.ok(html.includes("&#60;b&#62;x&#60;/b&#62;") && !html.includes("<b>x</b>"), html);
  assert.ok(!html.includes("<script"), "no scripts");
  const done = renderProgressHtml(running({ step: 1000, status: "interrupted" }));
  assert.ok(done.includes("width:100.0%") && done.includes("interrupted at step 1000"), done);
});

test("tty mode rewrites one line with \\r, at most once per interval, and ends it on finish", () => {
  const { writes, stream } = recorder(true, 100);
  let clock = 0;
  const bar = createProgress({ mode: "tty", stream, now: () => clock, minIntervalMs: 200 });
  for (let step = 1; step <= 100; step++) {
    clock = step * 10; // 100 updates over 1 s
    bar.update(running({ step }));
  }
  assert.equal(writes.length, 5, "one frame per 200 ms");
  assert.ok(writes.every((w) => w.startsWith("\r") && !w.includes("\n") && w.length === 100));
  bar.finish(running({ step: 100, status: "done" }));
  assert.equal(writes.length, 6);
  assert.ok(writes[5].endsWith("\n") && writes[5].includes("done"));
});

test("a status change draws at once despite the throttle", () => {
  const { writes, stream } = recorder(true);
  const bar = createProgress({ mode: "tty", stream, now: () => 0 });
  bar.update(running());
  bar.update(running({ step: 121 }));
  bar.update(running({ step: 122, status: "interrupted" }));
  assert.equal(writes.length, 2);
  assert.ok(writes[1].includes("interrupted at step 122"));
});

test("lines mode prints a line every lineEvery steps and on finish", () => {
  const { writes, stream } = recorder(false);
  const bar = createProgress({ mode: "lines", stream, lineEvery: 25 });
  for (let step = 1; step <= 100; step++) bar.update(running({ step }));
  assert.deepEqual(
    writes.map((w) => /(\d+)\/1000/.exec(w)?.[1]),
    ["25", "50", "75", "100"],
  );
  bar.finish(running({ step: 100, status: "done" }));
  assert.equal(writes.length, 5);
  assert.ok(writes.every((w) => w.endsWith("\n") && !w.includes("\r")));
});

test("html mode renders into the display in place", () => {
  const frames: string[] = [];
  let clock = 0;
  const bar = createProgress({ mode: "html", display: { html: (s) => frames.push(s) }, now: () => clock });
  bar.update(running({ step: 1 }));
  clock = 50;
  bar.update(running({ step: 2 }));
  clock = 300;
  bar.update(running({ step: 3 }));
  bar.finish(running({ step: 3, status: "done" }));
  assert.equal(frames.length, 3);
  assert.ok(frames[0].includes("1/1000") && frames[1].includes("3/1000") && frames[2].includes("done"));
});

test("detection: plain Node picks tty or lines; the tslab hook picks html and its newDisplay", () => {
  assert.equal(tslabKernel(), undefined);
  assert.equal(detectProgressMode({ isTTY: true, write: () => true }), "tty");
  assert.equal(detectProgressMode({ isTTY: false, write: () => true }), "lines");
  assert.throws(() => createProgress({ mode: "html" }), /createProgress: mode "html" needs the tslab kernel/);

  // What tslab's executor installs before running a cell.
  const frames: string[] = [];
  const fakeTslab = { display: { html: () => assert.fail("progress writes through newDisplay") }, newDisplay: () => ({ html: (s: string) => frames.push(s) }) };
  const g = globalThis as { __tslab__?: unknown };
  g.__tslab__ = {
    exports: {},
    require: (id: string) => {
      if (id !== "tslab") throw new Error(`unexpected require ${id}`);
      return fakeTslab;
    },
  };
  try {
    assert.equal(tslabKernel(), fakeTslab);
    assert.equal(detectProgressMode({ isTTY: true, write: () => true }), "html");
    const bar = createProgress({ stream: { isTTY: true, write: () => assert.fail("no text in the kernel") } });
    bar.finish(running({ status: "done" }));
    assert.equal(frames.length, 1);
    assert.ok(frames[0].startsWith("<div"));
  } finally {
    delete g.__tslab__;
  }
});

test("createProgress rejects a bad lineEvery", () => {
  assert.throws(() => createProgress({ mode: "lines", lineEvery: 0 }), /createProgress: lineEvery must be a positive integer, got 0/);
});

test("a display that throws is dropped, never breaking the run", () => {
  let calls = 0;
  const bar = createProgress({ mode: "html", display: { html: () => { calls++; throw new Error("Not ready"); } }, now: () => 0 });
  bar.update(running());
  bar.finish(running({ status: "done" }));
  assert.equal(calls, 1);
});
