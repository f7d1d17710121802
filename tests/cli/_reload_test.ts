import assert from "node:assert/strict";
import { ConfigError, type ConfigValues, type LoadedConfig } from "../../cli/config.ts";
import { changedKeys, ConfigReloader, type LiveChange } from "../../cli/_reload.ts";

function loaded(values: ConfigValues): LoadedConfig {
  return { values: structuredClone(values), sources: {}, file: "vbkpool.toml", warnings: [] };
}

function harness(start: ConfigValues) {
  let file: ConfigValues | Error = start;
  const lines: string[] = [];
  const render = (m: string, p: Record<string, unknown>) =>
    m.replace(/\{(\w+)\}/g, (_, k: string) => String(p[k]));
  const reloader = new ConfigReloader({
    current: loaded(start),
    load: () => {
      if (file instanceof Error) throw file;
      return loaded(file);
    },
    log: {
      info: (m, p) => lines.push(`INF ${render(m, p)}`),
      warn: (m, p) => lines.push(`WRN ${render(m, p)}`),
      error: (m, p) => lines.push(`ERR ${render(m, p)}`),
    },
  });
  return { reloader, lines, setFile: (f: ConfigValues | Error) => file = f };
}

const START: ConfigValues = {
  log: { level: "info" },
  stratum: { listen: ["127.0.0.1:3333"], max_difficulty: 100, max_protocol_errors: 3 },
  admin: { token: "0123456789abcdef" },
};

Deno.test("changedKeys lists each changed key once, lists compared by value", () => {
  assert.deepEqual(changedKeys(START, structuredClone(START)), []);
  const next = structuredClone(START);
  next.stratum!.listen = ["127.0.0.1:3334"];
  next.stratum!.max_difficulty = 50;
  assert.deepEqual(changedKeys(START, next).map((c) => c.key), [
    "stratum.listen",
    "stratum.max_difficulty",
  ]);
});

Deno.test("a reload applies live keys, logs one line per key and names restart keys", async () => {
  const { reloader, lines, setFile } = harness(START);
  const seen: LiveChange[] = [];
  reloader.register({
    name: "pool",
    keys: ["stratum.max_difficulty"],
    apply: (c) => void seen.push(c),
  });
  reloader.register({ name: "log", keys: ["log"], apply: (c) => void seen.push(c) });
  const next = structuredClone(START);
  next.stratum!.max_difficulty = 50;
  next.stratum!.listen = ["0.0.0.0:3333"];
  next.admin!.token = "fedcba9876543210";
  setFile(next);
  const report = await reloader.reload();
  assert.equal(report.ok, true);
  assert.deepEqual(report.applied, [{ key: "stratum.max_difficulty", from: "100", to: "50" }]);
  assert.deepEqual(report.restart, ["stratum.listen", "admin.token"]);
  // Only the handler whose key changed ran; the restart keys keep their running value.
  assert.equal(seen.length, 1);
  assert.deepEqual(seen[0]!.next.stratum!.listen, ["127.0.0.1:3333"]);
  assert.equal(seen[0]!.next.stratum!.max_difficulty, 50);
  assert.deepEqual([...seen[0]!.changed], ["stratum.max_difficulty"]);
  assert.equal(reloader.current.values.stratum!.max_difficulty, 50);
  assert.deepEqual(reloader.current.values.stratum!.listen, ["127.0.0.1:3333"]);
  assert.ok(lines.includes("INF reload: stratum.max_difficulty 100 → 50"), lines.join("\n"));
  const warning = lines.find((l) => l.startsWith("WRN"))!;
  assert.match(warning, /stratum\.listen, admin\.token$/);
  // A secret is never written out.
  assert.ok(!lines.join("\n").includes("fedcba"));
});

Deno.test("a secret key's change is logged masked", async () => {
  const { reloader, lines, setFile } = harness(START);
  reloader.register({ name: "admin", keys: ["admin.token"], apply: () => {} });
  const next = structuredClone(START);
  next.admin!.token = "fedcba9876543210";
  setFile(next);
  const report = await reloader.reload();
  assert.deepEqual(report.applied, [{ key: "admin.token", from: "(hidden)", to: "(hidden)" }]);
  assert.ok(lines.includes("INF reload: admin.token (hidden) → (hidden)"));
});

Deno.test("an invalid file is refused and nothing changes", async () => {
  const { reloader, lines, setFile } = harness(START);
  let applied = 0;
  reloader.register({ name: "all", keys: ["stratum", "log"], apply: () => void applied++ });
  setFile(new ConfigError("vbkpool.toml:3:1: Unknown configuration key stratum.bogus"));
  const report = await reloader.reload();
  assert.equal(report.ok, false);
  assert.match(report.error!, /stratum\.bogus/);
  assert.equal(applied, 0);
  assert.deepEqual(reloader.current.values, START);
  assert.match(
    lines.at(-1)!,
    /^ERR configuration reload refused, the running configuration is kept/,
  );
});

Deno.test("a handler's check refuses the whole reload before anything applies", async () => {
  const { reloader, setFile } = harness(START);
  let applied = 0;
  reloader.register({ name: "log", keys: ["log"], apply: () => void applied++ });
  reloader.register({
    name: "pool",
    keys: ["stratum"],
    check: (c) => {
      if ((c.next.stratum!.max_difficulty as number) < 10) throw new Error("max below min");
    },
    apply: () => void applied++,
  });
  const next = structuredClone(START);
  next.stratum!.max_difficulty = 5;
  next.log!.level = "debug";
  setFile(next);
  const report = await reloader.reload();
  assert.equal(report.ok, false);
  assert.equal(report.error, "max below min");
  assert.equal(applied, 0);
  assert.equal(reloader.current.values.log!.level, "info");
});

Deno.test("a failing handler is reported; the others still apply", async () => {
  const { reloader, lines, setFile } = harness(START);
  let logApplied = false;
  reloader.register({
    name: "pool",
    keys: ["stratum"],
    apply: () => {
      throw new Error("boom");
    },
  });
  reloader.register({ name: "log", keys: ["log"], apply: () => void (logApplied = true) });
  const next = structuredClone(START);
  next.stratum!.max_protocol_errors = 1;
  next.log!.level = "debug";
  setFile(next);
  const report = await reloader.reload();
  assert.equal(report.ok, true);
  assert.deepEqual(report.failed, [{ handler: "pool", error: "boom" }]);
  assert.equal(logApplied, true);
  assert.ok(lines.some((l) => l === "ERR reload: pool could not apply its settings: boom"));
});

Deno.test("an everyReload handler runs with no change; reloads run one at a time", async () => {
  const { reloader } = harness(START);
  const order: string[] = [];
  let n = 0;
  reloader.register({
    name: "tls",
    keys: [],
    everyReload: true,
    apply: async () => {
      const i = ++n;
      order.push(`start ${i}`);
      await new Promise((r) => setTimeout(r, 5));
      order.push(`end ${i}`);
    },
  });
  const [a, b] = await Promise.all([reloader.reload(), reloader.reload()]);
  assert.equal(a.ok && b.ok, true);
  assert.deepEqual(order, ["start 1", "end 1", "start 2", "end 2"]);
});
