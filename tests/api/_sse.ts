/**
 * Test helper: read a server-sent-event stream, bounded in time.
 *
 * @module
 */
import assert from "node:assert/strict";

/**
 * Read a server-sent-event stream until `done(text)` (or, with `untilEnd`, until it ends);
 * fails after 10 s, also when a read hangs, and when the stream ends first.
 *
 * @param reader The stream's reader (text or bytes).
 * @param text What was read so far.
 * @param done Whether enough was read.
 * @param options `untilEnd`: read until the stream ends instead.
 * @returns Everything read.
 */
export async function readEvents(
  reader: ReadableStreamDefaultReader<string> | ReadableStreamDefaultReader<Uint8Array>,
  text: string,
  done: (text: string) => boolean,
  options: { untilEnd?: boolean } = {},
): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (!done(text)) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      const why = `no such events in 10 s: ${text.slice(-2000)}`;
      timer = setTimeout(() => reject(new Error(why)), Math.max(0, deadline - Date.now()));
    });
    const { value, done: ended } = await Promise.race([reader.read(), late])
      .finally(() => clearTimeout(timer));
    if (ended && options.untilEnd) return text;
    assert.ok(!ended, "the event stream ended");
    text += typeof value === "string" ? value : new TextDecoder().decode(value);
  }
  return text;
}
