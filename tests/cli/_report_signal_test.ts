import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { spawnVbkpool, waitUntil } from "../_process.ts";

const CHILD = fileURLToPath(new URL("./_report_signal_child.ts", import.meta.url));

Deno.test({
  name: "SIGUSR1 reports, and the inspector Deno opens for it is closed again",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using child = spawnVbkpool([], { command: [Deno.execPath(), "run", "-A", CHILD] });
    await child.until(() => /^ready$/m.test(child.out) || undefined, "the child ready");
    child.signal("SIGUSR1");
    await child.until(() => /^report$/m.test(child.out) || undefined, "the report");
    // This Deno (2.9.5) opens an inspector on SIGUSR1: it is closed, its port refuses.
    await child.until(() => /^url now /m.test(child.out) || undefined, "the inspector closed");
    assert.match(child.out, /^closed ws:\/\/127\.0\.0\.1:\d+\//m);
    assert.match(child.out, /^port \d+ refused$/m);
    assert.match(child.out, /^url now undefined$/m);
    await waitUntil(() => child.status !== undefined, "the child to exit");
  },
});
