/**
 * Stopping a training run cleanly when the user interrupts it: the Jupyter
 * "interrupt the kernel" button (the square) in a notebook, Ctrl-C in a
 * terminal.
 *
 * Both arrive as SIGINT. What happens then, as measured with tslab 1.0.22
 * and a real Jupyter kernel:
 * - Jupyter's interrupt sends SIGINT to the kernel process (tslab's kernel
 *   spec keeps the default `interrupt_mode` "signal"). tslab's `startKernel`
 *   (node_modules/tslab/dist/main.js) handles it with
 *   `process.on("SIGINT", () => executor.interrupt())`, which rejects a
 *   promise the running cell is raced against
 *   (`Promise.race([cell, interruptPromise])`): the cell ends at once with
 *   "Error: Interrupted asynchronously" and the kernel takes the next cell.
 *   Nothing cancels the cell's own promise: a plain async loop keeps running
 *   in the background, beside later cells. (`vm`'s breakOnSigint only covers
 *   the synchronous start of a cell.)
 * - So a loop that wants to stop must listen to SIGINT itself: that is what
 *   {@link watchInterrupt} does. `train` (loop.ts) finishes the step in
 *   progress, saves the checkpoint if one is configured, marks the progress
 *   bar "interrupted at step k" and returns the history with
 *   `interrupted: true`. The model is consistent (a step is never cut in
 *   half) and usable in the next cell.
 * - Code after `await train(...)` in the same cell still runs, after the
 *   cell was reported interrupted: keep a training call alone in its cell.
 * - tslab drops the declarations of a cell that failed or was interrupted:
 *   after an interrupted `const h = await train(...)` a later cell cannot
 *   name `h` (the type checker rejects it, though the value exists).
 *   Declare what later cells need in an earlier cell (`let h: History;`)
 *   and assign it in the training cell (`h = await train(...)`).
 * - Adding a SIGINT listener during the synchronous part of a cell (which
 *   runs under breakOnSigint) made the next interrupt kill the kernel, so
 *   the listener is added in a microtask (see {@link watchInterrupt}).
 * - In a terminal, the first Ctrl-C stops the run the same way; a second
 *   one ends the process.
 * - Signals are delivered by the event loop, so the loop yields to it
 *   (`await new Promise(setImmediate)`) after every step; without that the
 *   signal, and the kernel's display updates, would wait for the run to end.
 */

/** A SIGINT listener installed for the duration of one run. */
export interface InterruptWatch {
  /** True once SIGINT arrived after the watch began. */
  readonly requested: boolean;
  /** Removes the listener; call it when the run ends (also on errors). */
  dispose(): void;
}

/**
 * Listens for SIGINT until `dispose()` is called and records that it came.
 * The listener is added in a microtask, i.e. once the current synchronous
 * code returns (see the comment in the body for why).
 *
 * The listener sits beside any other (tslab's, in the kernel), so the
 * kernel still marks the cell interrupted. In a plain Node process, where it
 * is the only listener, the first Ctrl-C asks the run to stop after its
 * current step; a second Ctrl-C before the run stopped restores Node's
 * default and re-raises the signal, which ends the process as usual.
 *
 * Signals are delivered by the event loop: a loop that never yields to it
 * (`await new Promise(setImmediate)`) never sees `requested` turn true.
 *
 * @example
 * const watch = watchInterrupt();
 * try {
 *   while (!watch.requested) { step(); await new Promise(setImmediate); }
 * } finally {
 *   watch.dispose();
 * }
 */
export function watchInterrupt(): InterruptWatch {
  let requested = false;
  let active = true;
  let listening = false;
  const onSigint = (): void => {
    if (requested && process.listenerCount("SIGINT") === 1) {
      // Second Ctrl-C and nobody else listens: the user wants out now.
      dispose();
      process.kill(process.pid, "SIGINT");
      return;
    }
    requested = true;
  };
  const dispose = (): void => {
    active = false;
    if (listening) process.removeListener("SIGINT", onSigint);
    listening = false;
  };
  // Registering a SIGINT listener while vm code runs with breakOnSigint (the
  // synchronous part of every tslab cell) leaves Node's SIGINT handling at
  // the default: the next interrupt kills the kernel (measured on Node 20).
  // A microtask runs after that part returns.
  queueMicrotask(() => {
    if (!active) return;
    process.on("SIGINT", onSigint);
    listening = true;
  });
  return {
    get requested() {
      return requested;
    },
    dispose,
  };
}
