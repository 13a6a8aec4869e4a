import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { bindWithoutDropping, BindingSocket } from "../../kernel/unbounded_publisher";

interface Socket {
  close(): void;
}
interface Publisher extends Socket, BindingSocket {
  send(message: string): Promise<void>;
}
interface Subscriber extends Socket {
  receiveHighWaterMark: number;
  receiveTimeout: number;
  connect(address: string): void;
  subscribe(): void;
  receive(): Promise<Buffer[]>;
}
interface Zeromq {
  Publisher: new () => Publisher;
  Subscriber: new () => Subscriber;
}

/** The zeromq the kernel's tslab loads (see kernel/launch.ts). */
function tslabZeromq(): Zeromq {
  const tslab = require.resolve("tslab/dist/main.js");
  return require(require.resolve("zeromq", { paths: [path.dirname(tslab)] })) as Zeromq;
}

const MESSAGES = 5000;
let endpoints = 0;

/**
 * Publishes MESSAGES numbered messages to a subscriber that reads none of
 * them until the last is sent (a frontend that lags), then returns what it
 * receives. The subscriber first waits until a probe gets through, so no
 * message is lost to the subscription still being on its way.
 */
async function publishToLaggingSubscriber(PublisherClass: new () => Publisher): Promise<number[]> {
  const zmq = tslabZeromq();
  const address = `inproc://unbounded-publisher-${process.pid}-${endpoints++}`;
  const publisher = new PublisherClass();
  const subscriber = new zmq.Subscriber();
  try {
    await publisher.bind(address);
    subscriber.receiveHighWaterMark = 100;
    subscriber.connect(address);
    subscriber.subscribe();
    subscriber.receiveTimeout = 20;
    for (let ready = false; !ready; ) {
      await publisher.send("probe");
      ready = await subscriber.receive().then(() => true, () => false);
    }
    for (let i = 0; i < MESSAGES; i++) await publisher.send(String(i));
    subscriber.receiveTimeout = 500;
    const received: number[] = [];
    for (;;) {
      const frames = await subscriber.receive().catch(() => null);
      if (frames === null) break;
      const text = frames[0].toString();
      if (text !== "probe") received.push(Number(text));
    }
    return received;
  } finally {
    publisher.close();
    subscriber.close();
  }
}

const all = Array.from({ length: MESSAGES }, (_, i) => i);

test("zeromq's Publisher drops what a lagging subscriber has not read (the failure being fixed)", async () => {
  const received = await publishToLaggingSubscriber(tslabZeromq().Publisher);
  assert.ok(received.length < MESSAGES, `expected drops at the default high-water mark, got all ${received.length}`);
});

test("bindWithoutDropping: a lagging subscriber receives every message, in order", async () => {
  class KeepingPublisher extends tslabZeromq().Publisher {}
  bindWithoutDropping(KeepingPublisher.prototype);
  assert.deepEqual(await publishToLaggingSubscriber(KeepingPublisher), all);
});

test("bindWithoutDropping: wrapping twice changes nothing; a bad prototype is refused by name", async () => {
  class KeepingPublisher extends tslabZeromq().Publisher {}
  bindWithoutDropping(KeepingPublisher.prototype);
  const wrapped = KeepingPublisher.prototype.bind;
  bindWithoutDropping(KeepingPublisher.prototype);
  assert.equal(KeepingPublisher.prototype.bind, wrapped);
  assert.deepEqual(await publishToLaggingSubscriber(KeepingPublisher), all);
  assert.throws(() => bindWithoutDropping({} as never), /bindWithoutDropping: proto.bind must be a function, got undefined/);
});
