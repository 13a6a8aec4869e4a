import { test } from "node:test";
import assert from "node:assert/strict";
import { tf } from "../../src/backend/tf";
import { figure, lineChart, barChart } from "../../src/plot";
import { toMimeBundle, figureHtml } from "../../src/plot/mimeBundle";
import { plotlyLibrary } from "../../src/plot/plotlyLibrary";
import { forgetPlotlyLibrary, htmlPage, kernelDisplay, plotlyLibrarySent, show, showPlotlyLibrary } from "../../src/plot/show";
import { embeddedFigure, libraryCopies } from "./helpers";

function recorder(): { html: (s: string) => void; outputs: string[] } {
  const outputs: string[] = [];
  return { outputs, html: (s: string) => outputs.push(s) };
}

test("show: plotly.js goes out exactly once, with the first of two figures", async () => {
  await tf.setBackend("cpu");
  forgetPlotlyLibrary();
  const display = recorder();
  show(lineChart([3, 1, 2]), { display });
  assert.equal(plotlyLibrarySent(), true);
  show(barChart(["a", "b"], [1, 2]), { display });
  assert.equal(display.outputs.length, 2);
  assert.equal(libraryCopies(display.outputs[0]), 1);
  assert.equal(libraryCopies(display.outputs[1]), 0);
  assert.ok(display.outputs[0].length > 4_000_000, `first output carries the 4.5 MB bundle, got ${display.outputs[0].length} chars`);
  assert.ok(display.outputs[1].length < 10_000, `second output is small, got ${display.outputs[1].length} chars`);
  // The library comes before the figure's script within the first output.
  assert.ok(display.outputs[0].indexOf("* plotly.js v2.35.3") < display.outputs[0].indexOf("var fig = "));
  // After forgetting (e.g. outputs cleared), the next figure carries it again.
  forgetPlotlyLibrary();
  show(lineChart([1]), { display });
  assert.equal(libraryCopies(display.outputs[2]), 1);
  showPlotlyLibrary({ display });
  assert.equal(libraryCopies(display.outputs[3]), 1);
  show(lineChart([1]), { display });
  assert.equal(libraryCopies(display.outputs[4]), 0);
});

test("toMimeBundle: JSON data in the bundle matches the input, float32 exactly", () => {
  const y = new Float32Array([0.1, -2.5, 3.14159, 1e-7, 123456.789]);
  const x = tf.tensor1d([0, 10, 20, 30, 40], "int32");
  const before = tf.memory().numTensors;
  const fig = lineChart({ name: "loss </script> <b>", y, x }, { title: "t", xTitle: "step" });
  assert.equal(tf.memory().numTensors, before);
  const bundle = toMimeBundle(fig, { elementId: "fig-a" });
  const got = embeddedFigure(bundle["text/html"]);
  const trace = got.data[0] as { y: number[]; x: number[]; name: string; type: string };
  assert.equal(trace.type, "scatter");
  assert.equal(trace.name, "loss </script> <b>");
  assert.deepEqual(trace.x, [0, 10, 20, 30, 40]);
  assert.equal(trace.y.length, y.length);
  trace.y.forEach((v, i) => assert.equal(Math.fround(v), y[i], `y[${i}]`));
  assert.equal(trace.y[0], 0.1, "float32 0.1 travels as 0.1");
  assert.deepEqual(got.layout.title, { text: "t" });
  assert.deepEqual((got.layout.xaxis as { title: unknown }).title, { text: "step" });
  // A "</script>" in user text cannot end the script element early.
  const scriptBody = bundle["text/html"].split('<script type="text/javascript">')[1];
  assert.equal(scriptBody.indexOf("</script>"), scriptBody.length - "</script>".length);
  assert.equal(libraryCopies(bundle["text/html"]), 0);
  assert.match(bundle["text/plain"], /^Figure\(1 trace: scatter; "t"\)$/);
  x.dispose();
});

test("toMimeBundle: options", () => {
  const fig = figure([{ type: "bar", x: ["a"], y: [1] }], { height: 300 });
  const withLib = toMimeBundle(fig, { includeLibrary: true, elementId: "f1", plotlyJson: true });
  assert.equal(libraryCopies(withLib["text/html"]), 1);
  assert.deepEqual(withLib["application/vnd.plotly.v1+json"]?.data, [{ type: "bar", x: ["a"], y: [1] }]);
  assert.match(withLib["text/html"], /<div id="f1" class="ssl-workbook-figure" style="width:100%;height:300px;">/);
  assert.equal(toMimeBundle(fig)["application/vnd.plotly.v1+json"], undefined);
  // Same figure, same id: same bundle (pure); random ids differ.
  assert.equal(toMimeBundle(fig, { elementId: "f1" })["text/html"], toMimeBundle(fig, { elementId: "f1" })["text/html"]);
  assert.notEqual(toMimeBundle(fig)["text/html"], toMimeBundle(fig)["text/html"]);
  assert.throws(() => toMimeBundle(fig, { waitSeconds: 0 }), /toMimeBundle: waitSeconds must be > 0, got 0/);
  assert.throws(() => figureHtml(fig, "bad id\""), /figureHtml: elementId must be/);
  assert.throws(() => toMimeBundle({} as never), /toMimeBundle: fig must be a Figure/);
  assert.throws(() => figure([{ x: [1] } as never]), /figure: data\[0\] must be a trace object with a string "type"/);
});

test("plotlyLibrary: guarded against AMD loaders and safe inside <script>", () => {
  const { version, scriptHtml } = plotlyLibrary();
  assert.equal(version, "2.35.3");
  assert.ok(scriptHtml.startsWith('<script type="text/javascript">'));
  assert.equal(scriptHtml.indexOf("</script"), scriptHtml.length - "</script>".length, "one closing tag, at the end");
  assert.ok(!scriptHtml.includes("<!--"));
  assert.match(scriptHtml, /\(function \(\) \{ var define = undefined, module = undefined, exports = undefined;\n\/\*\*\n\* plotly\.js v2\.35\.3/);
  assert.match(scriptHtml, /if \(typeof window\.Plotly === "undefined"\) \{/);
});

test("htmlPage: one library for many figures, fragments kept in order", () => {
  const page = htmlPage([lineChart([1, 2]), "<p>between</p>", lineChart([2, 1])], { title: "Run <3>" });
  assert.equal(libraryCopies(page), 1);
  assert.ok(page.indexOf('id="figure-0"') < page.indexOf("<p>between</p>"));
  assert.ok(page.indexOf("<p>between</p>") < page.indexOf('id="figure-2"'));
  assert.match(page, /<title>Run &lt;3&gt;<\/title>/);
  assert.throws(() => htmlPage([42 as never]), /htmlPage: parts\[0\] must be a Figure or an HTML string, got 42/);
});

test("show outside a kernel: no display, a note, state unchanged", () => {
  assert.equal(kernelDisplay(), null);
  forgetPlotlyLibrary();
  const logged: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => logged.push(args.join(" "));
  try {
    show(lineChart([1, 2]));
  } finally {
    console.log = log;
  }
  assert.equal(logged.length, 1);
  assert.match(logged[0], /^show: not inside a tslab kernel, nothing displayed \(Figure\(1 trace: scatter\)\)/);
  assert.equal(plotlyLibrarySent(), false);
  assert.throws(() => showPlotlyLibrary(), /showPlotlyLibrary: not inside a tslab kernel and no options.display given/);
});
