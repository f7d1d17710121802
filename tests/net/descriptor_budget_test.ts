import assert from "node:assert/strict";
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import {
  countOpenDescriptors,
  DescriptorBudget,
  processDescriptors,
  readDescriptorLimit,
} from "../../net/descriptor_budget.ts";
import { waitUntil } from "../_process.ts";

/** Collect vbkpool's log records while `fn` runs. */
async function withLog(fn: (records: LogRecord[]) => Promise<void>): Promise<void> {
  const records: LogRecord[] = [];
  configureSync({
    reset: true,
    sinks: { memory: (record) => records.push(record) },
    loggers: [
      { category: ["vbkpool"], sinks: ["memory"], lowestLevel: "debug" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
  try {
    await fn(records);
  } finally {
    resetSync();
  }
}

function text(record: LogRecord): string {
  return record.message.map(String).join("");
}

Deno.test("DescriptorBudget.tryTake() keeps the reserve free of what else is open", () => {
  let open = 20;
  let now = 0;
  const budget = new DescriptorBudget({
    limit: 100,
    reserve: 10,
    countOpen: () => open,
    now: () => now,
  });
  try {
    // 20 open at the first count, the new socket included: 19 others, room for 71 sockets.
    let taken = 0;
    while (budget.tryTake()) {
      taken++;
      open++;
    }
    assert.equal(taken, 71);
    assert.equal(budget.capacity, 71);
    assert.equal(budget.refused, 1);
    // The store opens 30 more files: counted again after refreshMs, the sockets must give way.
    open += 30;
    now += 1000;
    for (let i = 0; i < 5; i++) budget.release();
    open -= 5;
    assert.equal(budget.tryTake(), false);
    assert.equal(budget.others, 49);
    assert.equal(budget.sockets, 66);
    assert.equal(budget.capacity, 41);
  } finally {
    budget.close();
  }
});

Deno.test("DescriptorBudget without a limit admits every socket and still counts them", () => {
  const budget = new DescriptorBudget({ countOpen: () => 1_000_000 });
  for (let i = 0; i < 1000; i++) assert.equal(budget.tryTake(), true);
  assert.equal(budget.sockets, 1000);
  assert.equal(budget.capacity, Infinity);
  budget.configure({ limit: 1000, reserve: 0 });
  assert.equal(budget.tryTake(), false);
  budget.release();
  assert.equal(budget.sockets, 999);
  budget.close();
});

Deno.test("DescriptorBudget logs a refusal episode once, then a counted end", async () => {
  await withLog(async (records) => {
    const budget = new DescriptorBudget({
      limit: 10,
      reserve: 5,
      countOpen: () => 0,
      quietMs: 100,
    });
    try {
      while (budget.tryTake()) { /* fill it */ }
      for (let i = 0; i < 499; i++) budget.tryTake();
      assert.equal(budget.refused, 500);
      await waitUntil(() => records.some((r) => /has room again/.test(text(r))), "the end");
      const lines = records.map(text);
      assert.equal(lines.length, 2, lines.join("\n"));
      assert.match(
        lines[0]!,
        /^Descriptor budget exhausted: refusing new connections on every port/,
      );
      assert.equal(records[0]!.level, "warning");
      assert.match(lines[1]!, /^Descriptor budget has room again: 500 connections refused/);
    } finally {
      budget.close();
    }
  });
});

Deno.test("readDescriptorLimit() and countOpenDescriptors() read this process on Linux", () => {
  if (Deno.build.os !== "linux") return;
  const limit = readDescriptorLimit();
  const open = countOpenDescriptors();
  assert.ok(limit === undefined || limit >= 64, String(limit));
  assert.ok(open !== undefined && open >= 3, String(open));
  const file = Deno.openSync(import.meta.filename!);
  try {
    assert.equal(countOpenDescriptors(), open + 1);
  } finally {
    file.close();
  }
  assert.equal(processDescriptors(), processDescriptors());
});
