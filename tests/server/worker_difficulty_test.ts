import assert from "node:assert/strict";
import { MemoryWorkerDifficulty } from "../../server/worker_difficulty.ts";

Deno.test("MemoryWorkerDifficulty remembers the latest value and forgets the oldest", async () => {
  const store = new MemoryWorkerDifficulty({ maxWorkers: 2 });
  store.save("a", 1n);
  store.save("b", 2n);
  store.save("a", 3n); // refreshes a
  store.save("c", 4n); // forgets b
  assert.equal(await store.load("a"), 3n);
  assert.equal(await store.load("b"), undefined);
  assert.equal(await store.load("c"), 4n);
});
