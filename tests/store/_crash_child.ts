/**
 * Child process for the store crash test: opens the store named by argv[0], records shares as
 * fast as it can with many in flight, and prints the hex hash of every share whose
 * `recordShare` resolved (an acknowledgement) on its own line. The parent kills it with SIGKILL.
 *
 * @module
 */
import { openStore } from "../../store/mod.ts";
import { sampleShare } from "./_samples.ts";

const location = Deno.args[0];
if (location === undefined) throw new Error("usage: _crash_child.ts LOCATION");
const store = await openStore(location, { connectTimeoutS: 3 });
const encoder = new TextEncoder();
const out = Deno.stdout;
console.log("ready");

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Keep ~200 records in flight; write each acknowledgement before anything else.
let inFlight = 0;
for (;;) {
  if (inFlight >= 200) {
    await new Promise((r) => setTimeout(r, 0));
    continue;
  }
  inFlight++;
  const share = sampleShare({ time: Date.now() });
  store.recordShare(share).then(() => {
    out.writeSync(encoder.encode(hex(share.hash) + "\n"));
  }, () => {}).finally(() => inFlight--);
}
