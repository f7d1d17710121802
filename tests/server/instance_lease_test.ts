/**
 * The instance id lease on every store backend: a second live holder is refused (naming the
 * first), a crashed holder's lease is taken over once it runs out, a closed one at once, other
 * instance ids are independent, a stolen lease is noticed, and bad input is refused.
 */
import assert from "node:assert/strict";
import { resetSync } from "@logtape/logtape";
import { setupLogging } from "../../cli/log.ts";
import { InstanceInUseError, InstanceLeaseKeeper } from "../../server/instance_lease.ts";
import { waitUntil } from "../_process.ts";
import { contractTest } from "../store/_backends.ts";

contractTest(
  "InstanceLease",
  "refuses a second live holder of one instance id",
  async (_f, store) => {
    const first = await InstanceLeaseKeeper.acquire(store, {
      instance: 4,
      ttlMs: 900,
      owner: "pool-a",
    });
    try {
      const started = Date.now();
      await assert.rejects(
        InstanceLeaseKeeper.acquire(store, { instance: 4, ttlMs: 900, owner: "pool-b" }),
        (err: Error) =>
          err instanceof InstanceInUseError && /instance id 4 .*pool-a/.test(err.message),
      );
      // Refused after watching one renewal, not after the lease ran out many times over.
      assert.ok(Date.now() - started < 5_000);
      // Other ids are free.
      const other = await InstanceLeaseKeeper.acquire(store, { instance: 5, ttlMs: 900 });
      await other.close();
      assert.equal(first.lost, false);
    } finally {
      await first.close();
    }
    // Given back on close: taken at once.
    const again = await store.leaseInstance(4, { owner: "pool-b", ttlMs: 60_000 });
    assert.equal(again.acquired, true);
  },
);

contractTest(
  "InstanceLease",
  "takes over a crashed holder's lease once it runs out",
  async (_f, store) => {
    // A holder that never renews (it was killed).
    const dead = await store.leaseInstance(7, { owner: "killed", ttlMs: 1_500 });
    assert.equal(dead.acquired, true);
    const started = Date.now();
    const keeper = await InstanceLeaseKeeper.acquire(store, { instance: 7, ttlMs: 900 });
    try {
      assert.ok(Date.now() >= dead.expiresAt, "waited for the old lease to run out");
      assert.ok(Date.now() - started < 10_000);
      const seen = await store.leaseInstance(7, { owner: "killed", ttlMs: 1_500 });
      assert.deepEqual([seen.acquired, seen.owner], [false, keeper.owner]);
    } finally {
      await keeper.close();
    }
  },
);

contractTest("InstanceLease", "notices a lease taken over by another process", async (f, store) => {
  const keeper = await InstanceLeaseKeeper.acquire(store, { instance: 9, ttlMs: 600 });
  try {
    // As after a long database outage: the lease ran out and another server took it.
    await f.query(
      `UPDATE instance_leases SET owner = 'intruder', expires_at = ${Date.now() + 3_600_000}`,
    );
    await waitUntil(() => keeper.lost, "the keeper notices", 10_000);
  } finally {
    await keeper.close();
  }
  // Closing does not give away the intruder's lease.
  const seen = await store.leaseInstance(9, { owner: "x", ttlMs: 1_000 });
  assert.deepEqual([seen.acquired, seen.owner], [false, "intruder"]);
});

contractTest("InstanceLease", "refuses bad input", async (_f, store) => {
  const bad = [
    () => store.leaseInstance(-1, { owner: "a", ttlMs: 1000 }),
    () => store.leaseInstance(1.5, { owner: "a", ttlMs: 1000 }),
    () => store.leaseInstance(1, { owner: "", ttlMs: 1000 }),
    () => store.leaseInstance(1, { owner: "a".repeat(10_000), ttlMs: 1000 }),
    () => store.leaseInstance(1, { owner: 7 as unknown as string, ttlMs: 1000 }),
    () => store.leaseInstance(1, { owner: "a", ttlMs: 0 }),
    () => store.leaseInstance(1, { owner: "a", ttlMs: "5" as unknown as number }),
    () => store.leaseInstance(1, undefined as unknown as { owner: string; ttlMs: number }),
    () => store.releaseInstance(1, null as unknown as string),
  ];
  for (const call of bad) await assert.rejects(call(), /Cannot (lease|release) instance/);
  await assert.rejects(
    InstanceLeaseKeeper.acquire(store, { instance: 1, ttlMs: 100, renewMs: 100 }),
    RangeError,
  );
  // Nothing was leased by the refused calls.
  assert.equal((await store.leaseInstance(1, { owner: "b", ttlMs: 1000 })).acquired, true);
});

/** This machine as a lease owner names it: host, PID namespace, boot id. */
function here(): { host: string; ns: string; boot: string } {
  return {
    host: Deno.hostname(),
    ns: /\[(\d+)\]/.exec(Deno.readLinkSync("/proc/self/ns/pid"))![1]!,
    boot: Deno.readTextFileSync("/proc/sys/kernel/random/boot_id").trim().replaceAll("-", "")
      .slice(0, 16),
  };
}

contractTest(
  "InstanceLease",
  "a hand-over successor on this host starts beside the holder and takes the lease when it goes",
  async (_f, store) => {
    const { host, ns, boot } = here();
    const old = await InstanceLeaseKeeper.acquire(store, {
      instance: 11,
      ttlMs: 900,
      owner: `${host} pid 1 ns ${ns} boot ${boot} (old)`,
    });
    let next: InstanceLeaseKeeper | undefined;
    const errors: string[] = [];
    setupLogging({ level: "error", write: (line) => errors.push(line) });
    try {
      // Another host's holder is still refused, hand-over or not — also one with this host
      // name on another machine (a cloned VM: another boot id).
      for (
        const owner of ["far-away pid 1 (x)", `${host} pid 1 ns ${ns} boot 0123456789abcdef (x)`]
      ) {
        const far = await InstanceLeaseKeeper.acquire(store, { instance: 12, ttlMs: 900, owner });
        await assert.rejects(
          InstanceLeaseKeeper.acquire(store, { instance: 12, ttlMs: 900, handOver: true }),
          InstanceInUseError,
        );
        await far.close();
      }
      next = await InstanceLeaseKeeper.acquire(store, {
        instance: 11,
        ttlMs: 900,
        handOver: true,
        successorPatienceMs: 600,
      });
      assert.equal(next.successor, true);
      // A holder that does not let go within the patience is called out (not an upgrade).
      await waitUntil(
        () => errors.some((l) => /still held by .* not handing over/.test(l)),
        "the error",
        10_000,
      );
      // The holder keeps its lease while it hands over: neither side reports a theft.
      const seen = await store.leaseInstance(11, { owner: "probe", ttlMs: 900 });
      assert.equal(seen.owner, old.owner);
      assert.equal(old.lost, false);
      await old.close();
      await waitUntil(() => next!.successor === false, "the successor takes the lease", 10_000);
      const after = await store.leaseInstance(11, { owner: "probe", ttlMs: 900 });
      assert.deepEqual([after.acquired, after.owner], [false, next.owner]);
      assert.equal(next.lost, false);
    } finally {
      resetSync();
      await old.close();
      await next?.close();
    }
  },
);

contractTest(
  "InstanceLease",
  "a restart on this host replaces its crashed predecessor at once; a live or foreign pid is waited for (another namespace, a cloned machine of the same name)",
  async (_f, store) => {
    const { host, ns, boot } = here();
    // A process that has exited (its pid is free): taken without waiting for the 60 s lease.
    const gone = await new Deno.Command("sh", { args: ["-c", "echo $$"], stdout: "piped" })
      .output();
    const deadPid = new TextDecoder().decode(gone.stdout).trim();
    const dead = await store.leaseInstance(13, {
      owner: `${host} pid ${deadPid} ns ${ns} boot ${boot} (crashed)`,
      ttlMs: 60_000,
    });
    assert.equal(dead.acquired, true);
    const started = Date.now();
    const keeper = await InstanceLeaseKeeper.acquire(store, { instance: 13, ttlMs: 900 });
    await keeper.close();
    assert.ok(Date.now() - started < 5_000, "no wait for the dead holder's lease");
    // A live process that stopped renewing (hung) and one in another PID namespace: waited for.
    const sleeper = new Deno.Command("sleep", { args: ["30"] }).spawn();
    try {
      for (
        const owner of [
          `${host} pid ${sleeper.pid} ns ${ns} boot ${boot} (hung)`,
          `${host} pid ${deadPid} ns 1 boot ${boot} (other namespace)`,
          `${host} pid ${deadPid} ns ${ns} boot 0123456789abcdef (other machine, same name)`,
        ]
      ) {
        const held = await store.leaseInstance(14, { owner, ttlMs: 1_200 });
        assert.equal(held.acquired, true);
        const next = await InstanceLeaseKeeper.acquire(store, { instance: 14, ttlMs: 900 });
        assert.ok(Date.now() >= held.expiresAt, `waited for ${owner}`);
        await next.close();
      }
    } finally {
      sleeper.kill();
      await sleeper.status;
    }
  },
);
