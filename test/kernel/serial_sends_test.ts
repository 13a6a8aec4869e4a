import { test } from "node:test";
import assert from "node:assert/strict";
import { isBusyError, serializeSends } from "../../kernel/serial_sends";

/**
 * A socket that behaves like zeromq 6's `send`: `syncLimit` sends in a row go
 * out at once, the next is deferred to a later turn of the event loop, and
 * any send while that one is pending throws EBUSY synchronously.
 */
function fakeSocketClass(syncLimit: number) {
  class Base {
    delivered: unknown[] = [];
    writing = false;
    syncCount = 0;
    send(message: unknown): Promise<void> {
      if (this.writing) {
        const error = new Error("Socket is busy writing; only one send operation may be in progress at any time") as Error & { code: string };
        error.code = "EBUSY";
        throw error;
      }
      if (this.syncCount++ < syncLimit) {
        this.delivered.push(message);
        return Promise.resolve();
      }
      this.writing = true;
      return new Promise((resolve) =>
        setImmediate(() => {
          this.writing = false;
          this.syncCount = 0;
          this.delivered.push(message);
          resolve();
        }),
      );
    }
  }
  // zeromq's native base class defines send read-only.
  Object.defineProperty(Base.prototype, "send", { writable: false });
  class Publisher extends Base {}
  return { Base, Publisher };
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

test("the fake socket reproduces zeromq's failure: the send after a deferred one throws EBUSY", () => {
  const { Publisher } = fakeSocketClass(4);
  const socket = new Publisher();
  for (let i = 0; i < 5; i++) void socket.send(i);
  assert.throws(() => socket.send(5), (e: unknown) => isBusyError(e));
});

test("serializeSends: a burst of sends never throws and arrives complete and in order", async () => {
  const { Base, Publisher } = fakeSocketClass(4);
  serializeSends(Publisher.prototype);
  assert.ok(Object.prototype.hasOwnProperty.call(Publisher.prototype, "send"));
  const socket = new Publisher();
  const promises = range(50).map((i) => socket.send(i));
  // The first four went out synchronously, as before the wrap: live output stays live.
  assert.deepEqual(socket.delivered, [0, 1, 2, 3]);
  await Promise.all(promises);
  assert.deepEqual(socket.delivered, range(50));
});

test("serializeSends: sends after the queue drained go out synchronously again", async () => {
  const { Publisher } = fakeSocketClass(2);
  serializeSends(Publisher.prototype);
  const socket = new Publisher();
  await Promise.all(range(7).map((i) => socket.send(i)));
  const before = socket.delivered.length;
  void socket.send("next");
  assert.equal(socket.delivered.length, before + 1);
  assert.equal(socket.delivered[before], "next");
});

test("serializeSends: queues are per socket, and wrapping twice changes nothing", async () => {
  const { Publisher } = fakeSocketClass(3);
  serializeSends(Publisher.prototype);
  const wrapped = Publisher.prototype.send;
  serializeSends(Publisher.prototype);
  assert.equal(Publisher.prototype.send, wrapped);
  const a = new Publisher();
  const b = new Publisher();
  const sends: Promise<void>[] = [];
  for (const i of range(20)) sends.push(a.send(`a${i}`), b.send(`b${i}`));
  await Promise.all(sends);
  assert.deepEqual(a.delivered, range(20).map((i) => `a${i}`));
  assert.deepEqual(b.delivered, range(20).map((i) => `b${i}`));
});

test("serializeSends: other errors still reach the caller; a bad prototype is refused by name", () => {
  class Closed {
    send(): Promise<void> {
      throw new Error("Socket is closed");
    }
  }
  serializeSends(Closed.prototype);
  assert.throws(() => new Closed().send(), /Socket is closed/);
  assert.throws(() => serializeSends({} as never), /serializeSends: proto.send must be a function, got undefined/);
});
