/**
 * Stopping a training run cleanly when the user interrupts it: the Jupyter
 * "interrupt the kernel" button (the square) in a notebook, Ctrl-C in a
 * terminal.
 *
 * Both arrive as SIGINT. Jupyter's default `interrupt_mode` is "signal", and
 * tslab's kernel spec does not change it, so the kernel process receives
 * SIGINT; tslab's `startKernel` (node_modules/tslab/dist/main.js) handles it
 * with `process.on("SIGINT", () => executor.interrupt())`. What that does to a
 * cell is in the doc comment of `train` (loop.ts): the cell is abandoned, not
 * stopped, so a loop that wants to stop must listen to SIGINT itself. That
 * is what {@link watchInterrupt} does.
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
