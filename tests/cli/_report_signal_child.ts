/**
 * Child of `_report_signal_test.ts`: a `deno run` process (where Deno ≥ 2.9.2 opens its
 * inspector on SIGUSR1) that reports each SIGUSR1 and prints what became of the inspector.
 */
import inspector from "node:inspector";
import { onReportSignal } from "../../cli/_report_signal.ts";

const say = (line: string) => console.log(line);
// Ends once the inspector was closed, or after 20 s.
const end = setTimeout(() => say("timeout"), 20_000);
const remove = onReportSignal(() => say("report"), {
  onInspectorClosed: async (url) => {
    say(`closed ${url}`);
    const port = Number(new URL(url).port);
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      say(`port ${port} still open`);
    } catch {
      say(`port ${port} refused`);
    }
    say(`url now ${inspector.url()}`);
    remove();
    clearTimeout(end);
  },
});
// Deno installs its own SIGUSR1 handler 500 ms after start; be ready after that.
setTimeout(() => say("ready"), 700);
