/**
 * Keeps the kernel's iopub socket from dropping output when the frontend lags.
 *
 * tslab publishes every output (each `console.log` line, each display, the
 * "idle" that ends a cell) on a zeromq Publisher. A Publisher never waits:
 * once 1,000 messages (zeromq's default send high-water mark) are queued for
 * a subscriber that has not read them yet, it silently DROPS every further
 * message until the subscriber catches up. A cell that prints a few thousand
 * lines while the frontend is busy (a notebook run on a loaded machine; a
 * browser rendering plots) loses its tail and, worse, the "idle" sent right
 * after it, so the frontend waits for a cell that has long finished.
 * Measured: a subscriber that paused 10 s during a 20,000-line cell received
 * 12,497 lines and no "idle".
 *
 * {@link bindWithoutDropping} makes a Publisher class set its send
 * high-water mark to 0 (no limit: zeromq queues in memory instead of
 * dropping) before it binds. The limit has to be set before `bind`: zeromq
 * reads it when the connection's queue is created.
 */

/** The part of a zeromq 6 Publisher this module uses. */
export interface BindingSocket {
  sendHighWaterMark: number;
  bind(address: string): Promise<void>;
}

const WRAPPED = Symbol.for("ssl-workbook.bindWithoutDropping");

/**
 * Replaces `proto.bind` with a version that first lifts the socket's send
 * high-water mark (`sendHighWaterMark = 0`), so messages published to a slow
 * subscriber are queued, never dropped. Wrapping the same prototype twice is
 * a no-op. `proto` is a socket class's prototype (its `bind` may be
 * inherited, and zeromq's native base class defines it read-only).
 *
 * @example
 * const zmq = require("zeromq");
 * bindWithoutDropping(zmq.Publisher.prototype);   // tslab's iopub
 */
export function bindWithoutDropping(proto: BindingSocket): void {
  const original = proto.bind as BindingSocket["bind"] & { [WRAPPED]?: true };
  if (typeof original !== "function") {
    throw new Error(`bindWithoutDropping: proto.bind must be a function, got ${typeof original}`);
  }
  if (original[WRAPPED]) return;
  const bind = function (this: BindingSocket, address: string): Promise<void> {
    this.sendHighWaterMark = 0;
    return original.call(this, address);
  } as BindingSocket["bind"] & { [WRAPPED]?: true };
  bind[WRAPPED] = true;
  // An own property on the subclass's prototype: assigning would hit the
  // native base class's read-only `bind` and throw.
  Object.defineProperty(proto, "bind", { value: bind, writable: true, configurable: true, enumerable: false });
}
