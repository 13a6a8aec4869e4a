/**
 * Keeps the kernel's output from being lost when a cell writes fast.
 *
 * tslab 1.0.22 publishes every output (stream text, display data, status)
 * with `socket.send(...)` from zeromq 6 and never waits for the promise.
 * zeromq 6 sends synchronously up to 512 times in a row; the 513th is
 * deferred to the next turn of the event loop, and until it has gone, any
 * further `send` on that socket THROWS synchronously ("EBUSY: Socket is busy
 * writing; only one send operation may be in progress at any time").
 *
 * In a notebook that means: a `display(...)` that happens to be the 514th
 * message in a synchronous stretch throws inside the cell, the cell fails,
 * tslab's `console.error(e)` hits the same busy socket (Node's console
 * swallows the error), and Jupyter receives a failed cell with no error text
 * at all (`<Error>:`). `console.log` lines in that window are silently
 * dropped. Which message is the 513th depends on how many progress-bar
 * updates came before, i.e. on timing, so long notebooks failed at random
 * cells about one run in five.
 *
 * {@link serializeSends} wraps a socket prototype's `send` so a send that
 * finds the socket busy waits in a queue behind the message being written,
 * and everything sent after it waits too, so order is kept. Sends on an idle
 * socket still go out synchronously, as before, so live output stays live.
 */

/** The part of a zeromq 6 socket this module uses. */
export interface SendingSocket {
  send(message: unknown): Promise<void>;
}

interface QueuedSend {
  message: unknown;
  resolve(): void;
  reject(error: unknown): void;
}

interface SocketQueue {
  /** The promise of the latest message handed to the socket. */
  last: Promise<void>;
  /** Messages waiting, in order; non-empty while a flush is scheduled. */
  waiting: QueuedSend[];
}

const WRAPPED = Symbol.for("ssl-workbook.serializeSends");

/** True for zeromq's "socket is busy writing" error (errno EBUSY). */
export function isBusyError(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "EBUSY";
}

/**
 * Replaces `proto.send` with a version that never throws EBUSY: a message
 * sent while the socket is still writing a deferred one is queued and sent,
 * in order, once that write is done. Other errors are thrown as before.
 * Wrapping the same prototype twice is a no-op. `proto` is a socket class's
 * prototype (its `send` may be inherited).
 *
 * @example
 * const zmq = require("zeromq");
 * serializeSends(zmq.Publisher.prototype);   // iopub: stream, display, status
 * serializeSends(zmq.Router.prototype);      // shell and control replies
 */
export function serializeSends(proto: SendingSocket): void {
  const original = proto.send as SendingSocket["send"] & { [WRAPPED]?: true };
  if (typeof original !== "function") {
    throw new Error(`serializeSends: proto.send must be a function, got ${typeof original}`);
  }
  if (original[WRAPPED]) return;
  const queues = new WeakMap<object, SocketQueue>();

  const flush = async (socket: SendingSocket, queue: SocketQueue): Promise<void> => {
    while (queue.waiting.length > 0) {
      // Wait for the message being written; its failure is its sender's concern.
      await queue.last.catch(() => undefined);
      const item = queue.waiting[0];
      let sent: Promise<void>;
      try {
        sent = original.call(socket, item.message);
      } catch (error) {
        if (isBusyError(error)) {
          // Still writing (a message sent before the wrap, or deferred
          // again): the write completes on a later turn of the event loop.
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
        queue.waiting.shift();
        item.reject(error);
        continue;
      }
      queue.waiting.shift();
      queue.last = sent;
      sent.then(item.resolve, item.reject);
    }
  };

  const send = function (this: SendingSocket, message: unknown): Promise<void> {
    let queue = queues.get(this);
    if (queue === undefined) {
      queue = { last: Promise.resolve(), waiting: [] };
      queues.set(this, queue);
    }
    if (queue.waiting.length === 0) {
      try {
        const sent = original.call(this, message);
        queue.last = sent;
        return sent;
      } catch (error) {
        if (!isBusyError(error)) throw error;
      }
    }
    const q = queue;
    return new Promise<void>((resolve, reject) => {
      q.waiting.push({ message, resolve, reject });
      if (q.waiting.length === 1) void flush(this, q);
    });
  } as SendingSocket["send"] & { [WRAPPED]?: true };
  send[WRAPPED] = true;
  // An own property on the socket class's prototype: zeromq's native base
  // class defines `send` read-only, and the subclass may shadow it.
  Object.defineProperty(proto, "send", { value: send, writable: true, configurable: true, enumerable: false });
}
