import assert from "node:assert/strict";
import { PacedLink, type PacedTarget } from "../../server/_ucp_paced_link.ts";
import { waitUntil } from "../_wait.ts";

class FakeTarget implements PacedTarget {
  closed = false;
  /** How often the link looked at the send queue (each look is one of its ticks). */
  queueChecks = 0;
  #queuedBytes = 0;
  written: string[] = [];
  closeReason: string | undefined;
  reading = true;
  get queuedBytes(): number {
    this.queueChecks++;
    return this.#queuedBytes;
  }
  set queuedBytes(bytes: number) {
    this.#queuedBytes = bytes;
  }
  send(line: string): boolean {
    if (this.closed) return false;
    this.written.push(line);
    return true;
  }
  close(reason: string): void {
    this.closed = true;
    this.closeReason ??= reason;
  }
  closeAfterFlush(reason: string): void {
    this.close(reason);
  }
  stopReading(): void {
    this.reading = false;
  }
}

async function until(check: () => boolean): Promise<void> {
  await waitUntil(check, "the condition", 60_000);
}

Deno.test("PacedLink writes the first line at once and the rest one per gap, in order", async () => {
  let now = 1000;
  const target = new FakeTarget();
  const link = new PacedLink(target, { gapMs: 10, maxQueued: 10, now: () => now });
  assert.equal(link.send("a"), true);
  assert.equal(link.send("b"), true);
  assert.equal(link.send("c"), true);
  assert.deepEqual(target.written, ["a"]);
  assert.equal(link.queued, 2);
  now += 10;
  await until(() => target.written.length === 2);
  assert.deepEqual(target.written, ["a", "b"]);
  now += 10;
  await until(() => target.written.length === 3);
  assert.deepEqual(target.written, ["a", "b", "c"]);
  link.dispose();
});

Deno.test("PacedLink waits while the previous write is still queued", async () => {
  let now = 0;
  const target = new FakeTarget();
  const link = new PacedLink(target, { gapMs: 5, maxQueued: 10, now: () => now });
  link.send("a");
  target.queuedBytes = 2; // "a\n" not yet written
  link.send("b");
  now += 50;
  // The event that proves the link got that far: it looked at the queue again (ticked).
  const checks = target.queueChecks;
  await until(() => target.queueChecks >= checks + 2);
  assert.deepEqual(target.written, ["a"]);
  target.queuedBytes = 0;
  now += 5; // a full gap after it left
  await until(() => target.written.length === 2);
  link.dispose();
});

Deno.test("PacedLink closes a peer whose queue overflows", () => {
  const target = new FakeTarget();
  const link = new PacedLink(target, { gapMs: 1000, maxQueued: 2 });
  link.send("a");
  assert.equal(link.send("b"), true);
  assert.equal(link.send("c"), true);
  assert.equal(link.send("d"), false);
  assert.equal(target.closeReason, "send queue full (slow reader)");
  assert.equal(link.queued, 0);
});

Deno.test("PacedLink.closeAfterFlush() sends what is queued, then closes", async () => {
  const target = new FakeTarget();
  const link = new PacedLink(target, { gapMs: 2, maxQueued: 10 });
  link.send("a");
  link.send("b");
  link.closeAfterFlush("bye");
  assert.equal(target.closed, false);
  await until(() => target.closed);
  assert.deepEqual(target.written, ["a", "b"]);
  assert.equal(target.closeReason, "bye");
});

Deno.test("PacedLink with gap 0 writes at once", () => {
  const target = new FakeTarget();
  const link = new PacedLink(target, { gapMs: 0, maxQueued: 10 });
  link.send("a");
  link.send("b");
  assert.deepEqual(target.written, ["a", "b"]);
});

Deno.test("PacedLink.closeAfterFlush() stops reading at once and closes after the queue", async () => {
  let now = 1000;
  const target = new FakeTarget();
  const link = new PacedLink(target, { gapMs: 10, maxQueued: 10, now: () => now });
  link.send("a");
  link.send("b");
  link.closeAfterFlush("condemned");
  assert.equal(target.reading, false);
  assert.equal(target.closed, false);
  now += 10;
  await until(() => target.closed);
  assert.deepEqual(target.written, ["a", "b"]);
  assert.equal(target.closeReason, "condemned");
});
