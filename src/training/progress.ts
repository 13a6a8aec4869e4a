/**
 * A progress bar for training loops that updates in place wherever the code
 * runs: an HTML bar in a Jupyter notebook on the tslab kernel, a `\r` line in
 * a terminal, and one plain line every few steps in logs (CI, `node --test`).
 *
 * How it finds the notebook: tslab's executor stores `{ exports, require }`
 * in `globalThis.__tslab__` before it runs a cell (tslab/dist/executor.js),
 * and that `require("tslab")` returns the kernel's own tslab module, the one
 * whose `newDisplay()` is wired to the running kernel. Outside the kernel the
 * global is absent. Importing "tslab" by plain module resolution is not
 * enough: it may be another copy, whose `display` throws "Not ready" because
 * no kernel ever set its output channel. Inside the kernel,
 * `process.stdout.isTTY` says nothing about the notebook (tslab redirects
 * writes to the cell, but the flag is whatever the kernel's parent gave it),
 * so the kernel test comes first.
 */
import { tslabKernel, type HtmlDisplay } from "../notebook/kernel";
import { checkPositiveInteger } from "../validation/arguments";

/** Where a run stands; what one frame of the bar shows. */
export interface ProgressState {
  /** Text before the bar, e.g. the method's name. */
  label?: string;
  /** Steps done, counting steps done before a resume. */
  step: number;
  /** Steps the run will take, when known. */
  total?: number;
  /** The epoch being run, 1-based. */
  epoch: number;
  /** Epochs the run will take, when known. */
  epochs?: number;
  /** The loss to show (the loop passes a smoothed loss). */
  loss?: number;
  /** Throughput, in `rateUnit`. */
  rate?: number;
  /** `"items/s"` when the loop knows the batch size, else `"steps/s"`. */
  rateUnit?: string;
  /** Seconds since the run started. */
  elapsedSeconds: number;
  /** Estimated seconds left, when known. */
  etaSeconds?: number;
  /** `"running"` until the run ends. */
  status: ProgressStatus;
  /** A short remark shown after the numbers, e.g. `"resumed from step 200"`. */
  note?: string;
}

/** How a run is going or how it ended. */
export type ProgressStatus = "running" | "done" | "interrupted" | "stopped" | "error";

/** What a training loop reports to. */
export interface ProgressReporter {
  /** Shows `state` unless the last frame is too recent (throttled). */
  update(state: ProgressState): void;
  /** Shows the final `state`, always. */
  finish(state: ProgressState): void;
}

/** Where the bar is drawn. */
export type ProgressMode = "html" | "tty" | "lines" | "none";

/** A writable text stream; `process.stdout` is one. */
export interface TextStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export type { HtmlDisplay };

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Default `"auto"`: {@link detectProgressMode}. */
  mode?: ProgressMode | "auto";
  /** Least time between two frames in "html" and "tty" modes; default 200 ms (5 per second). */
  minIntervalMs?: number;
  /** In "lines" mode, print a line when `step` is a multiple of this; default 50. */
  lineEvery?: number;
  /** Stream for "tty" and "lines"; default `process.stdout`. */
  stream?: TextStream;
  /** Display for "html"; default a new tslab display of the running kernel. */
  display?: HtmlDisplay;
  /** Clock in milliseconds; default `performance.now`. */
  now?: () => number;
}

/**
 * Picks where to draw: `"html"` inside the tslab kernel, `"tty"` when
 * `stream` is a terminal, `"lines"` otherwise (pipes, CI logs, test runners).
 *
 * @example
 * detectProgressMode(); // "tty" in a terminal
 */
export function detectProgressMode(stream: TextStream = process.stdout): "html" | "tty" | "lines" {
  if (tslabKernel() !== undefined) return "html";
  return stream.isTTY ? "tty" : "lines";
}

/**
 * Creates a progress reporter.
 *
 * Frames are throttled to one per `minIntervalMs` (status changes and
 * `finish` always draw), so updating on every step costs a clock read.
 *
 * @example
 * const bar = createProgress({ mode: "auto" });
 * bar.update({ step: 10, total: 100, epoch: 1, elapsedSeconds: 2, status: "running" });
 * bar.finish({ step: 100, total: 100, epoch: 1, elapsedSeconds: 20, status: "done" });
 */
export function createProgress(options: ProgressOptions = {}): ProgressReporter {
  const stream = options.stream ?? process.stdout;
  const requested = options.mode ?? "auto";
  const mode: ProgressMode = requested === "auto" ? detectProgressMode(stream) : requested;
  const minIntervalMs = options.minIntervalMs ?? 200;
  const lineEvery = options.lineEvery ?? 50;
  checkPositiveInteger("createProgress", "lineEvery", lineEvery);
  const now = options.now ?? (() => performance.now());

  if (mode === "none") return { update() {}, finish() {} };

  if (mode === "lines") {
    let lastStatus: ProgressStatus | undefined;
    let lastPrinted = -1;
    const print = (state: ProgressState) => {
      stream.write(renderProgressText(state) + "\n");
      lastPrinted = state.step;
      lastStatus = state.status;
    };
    return {
      update(state) {
        const due = state.step % lineEvery === 0 && state.step !== lastPrinted;
        if (due || state.status !== (lastStatus ?? "running")) print(state);
      },
      finish(state) {
        print(state);
      },
    };
  }

  let draw: (state: ProgressState, final: boolean) => void;
  if (mode === "html") {
    let display = options.display;
    if (display === undefined) {
      const kernel = tslabKernel();
      if (kernel === undefined) {
        throw new Error(`createProgress: mode "html" needs the tslab kernel or a display option, got neither`);
      }
      display = kernel.newDisplay();
    }
    const target = display;
    let broken = false;
    draw = (state) => {
      if (broken) return;
      try {
        target.html(renderProgressHtml(state));
      } catch {
        // A progress bar must never stop a training run; drop it instead.
        broken = true;
      }
    };
  } else {
    draw = (state, final) => {
      const width = Math.max(20, (stream.columns ?? 100) - 1);
      const text = renderProgressText(state, width);
      stream.write("\r" + text.padEnd(width).slice(0, width) + (final ? "\n" : ""));
    };
  }
  let last = -Infinity;
  let lastStatus: ProgressStatus = "running";
  return {
    update(state) {
      const t = now();
      if (t - last < minIntervalMs && state.status === lastStatus) return;
      last = t;
      lastStatus = state.status;
      draw(state, false);
    },
    finish(state) {
      last = now();
      lastStatus = state.status;
      draw(state, true);
    },
  };
}

/**
 * Formats seconds as `m:ss`, or `h:mm:ss` from one hour on.
 *
 * @example
 * formatDuration(75); // "1:15"
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

function formatLoss(loss: number): string {
  if (!Number.isFinite(loss)) return String(loss);
  const a = Math.abs(loss);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? loss.toExponential(3) : loss.toPrecision(4);
}

function formatRate(rate: number): string {
  return rate < 10 ? rate.toFixed(1) : String(Math.round(rate));
}

const STATUS_WORDS: Record<ProgressStatus, string> = {
  running: "",
  done: "done",
  interrupted: "interrupted",
  stopped: "stopped",
  error: "failed",
};

/** The numbers of a frame, without the bar. */
function describe(state: ProgressState): string[] {
  const parts: string[] = [];
  parts.push(state.total !== undefined ? `${state.step}/${state.total}` : `step ${state.step}`);
  parts.push(state.epochs !== undefined && Number.isFinite(state.epochs)
    ? `epoch ${state.epoch}/${state.epochs}`
    : `epoch ${state.epoch}`);
  if (state.loss !== undefined) parts.push(`loss ${formatLoss(state.loss)}`);
  if (state.rate !== undefined && Number.isFinite(state.rate)) {
    parts.push(`${formatRate(state.rate)} ${state.rateUnit ?? "steps/s"}`);
  }
  let time = formatDuration(state.elapsedSeconds);
  if (state.status === "running" && state.etaSeconds !== undefined) {
    time += ` elapsed, ETA ${formatDuration(state.etaSeconds)}`;
  }
  parts.push(time);
  return parts;
}

function statusText(state: ProgressState): string {
  const word = STATUS_WORDS[state.status];
  const words = [word && state.status !== "done" ? `${word} at step ${state.step}` : word, state.note ?? ""];
  return words.filter((w) => w !== "").join("; ");
}

/**
 * One line of text for a frame, at most `width` characters wide when the
 * bar has room: `label [#####-----] 120/1000 epoch 2/5 loss 0.4312 ...`.
 *
 * @example
 * renderProgressText({ step: 5, total: 10, epoch: 1, elapsedSeconds: 3, status: "running" }, 80);
 */
export function renderProgressText(state: ProgressState, width = 100): string {
  const head = state.label ? `${state.label} ` : "";
  const tail = [...describe(state), statusText(state)].filter((p) => p !== "").join("  ");
  let bar = "";
  if (state.total !== undefined && state.total > 0) {
    // A fixed width keeps the numbers from jumping as they grow.
    const cells = 20;
    if (width - head.length - tail.length - 3 >= cells) {
      const filled = Math.round(cells * Math.min(1, state.step / state.total));
      bar = `[${"#".repeat(filled)}${"-".repeat(cells - filled)}] `;
    }
  }
  return head + bar + tail;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STATUS_COLOURS: Record<ProgressStatus, string> = {
  running: "#4a86c5",
  done: "#3c9a5f",
  interrupted: "#d08a1c",
  stopped: "#d08a1c",
  error: "#c0392b",
};

/**
 * A frame as a small self-contained HTML fragment (inline styles, no
 * scripts): a bar, then the numbers, then the status.
 *
 * @example
 * tslab.newDisplay().html(renderProgressHtml(state));
 */
export function renderProgressHtml(state: ProgressState): string {
  const fraction = state.total !== undefined && state.total > 0 ? Math.min(1, state.step / state.total) : undefined;
  const colour = STATUS_COLOURS[state.status];
  const label = state.label ? `<b>${escapeHtml(state.label)}</b> ` : "";
  const bar = fraction === undefined
    ? ""
    : `<span style="display:inline-block;width:200px;height:10px;background:#e3e3e3;` +
      `border-radius:3px;vertical-align:middle;overflow:hidden;margin-right:8px">` +
      `<span style="display:block;width:${(fraction * 100).toFixed(1)}%;height:100%;` +
      `background:${colour}"></span></span>`;
  const numbers = escapeHtml(describe(state).join(" · "));
  const status = statusText(state);
  const statusHtml = status ? ` <span style="color:${colour};font-weight:bold">${escapeHtml(status)}</span>` : "";
  return `<div style="font-family:monospace;font-size:12px;line-height:1.8">${label}${bar}${numbers}${statusHtml}</div>`;
}
