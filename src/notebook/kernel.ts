/**
 * Finding the tslab kernel this code runs in, if any.
 *
 * Before running a cell, tslab's executor installs `globalThis.__tslab__`
 * with a `require` bound to the kernel; through it the library reaches the
 * kernel's own `tslab` module (whichever installation started the kernel)
 * without loading tslab, and its TypeScript compiler, outside a kernel.
 */

/** Where HTML output goes: tslab's `display`, or anything with `html(s)`. */
export interface HtmlDisplay {
  html(s: string): void;
}

/** The part of tslab's public module the library uses. */
export interface TslabModule {
  /** Writes outputs of the running cell. */
  display: HtmlDisplay;
  /** A display that overwrites one output in place (progress bars). */
  newDisplay(): HtmlDisplay;
}

/**
 * The running tslab kernel's `tslab` module, or `undefined` outside a kernel.
 *
 * @example
 * const inNotebook = tslabKernel() !== undefined;
 */
export function tslabKernel(): TslabModule | undefined {
  const hook = (globalThis as { __tslab__?: { require?: unknown } }).__tslab__;
  if (hook === undefined || typeof hook.require !== "function") return undefined;
  try {
    const mod = (hook.require as (id: string) => unknown)("tslab") as Partial<TslabModule>;
    return typeof mod?.newDisplay === "function" && typeof mod.display?.html === "function"
      ? (mod as TslabModule)
      : undefined;
  } catch {
    return undefined;
  }
}
