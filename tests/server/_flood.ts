/**
 * Test helper: a hostile peer over real TCP that writes one line many times, as fast as the
 * server takes it, while it collects everything the server sends, until the server closes.
 *
 * @module
 */

/** What the flooding peer saw. */
export interface FloodResult {
  /** Everything the server sent. */
  received: string;
  /** The same, split into lines (without the empty tail). */
  lines: string[];
  /** Bytes the kernel took from the peer before the server closed (includes socket buffers). */
  sent: number;
}

/** Options for {@linkcode floodLines}. */
export interface FloodOptions {
  /** How many copies of the line to send. */
  count: number;
  /** Lines sent first, each on its own (e.g. a login). @default none */
  before?: string[];
  /** Longest wait for the server to close, ms. @default 60000 */
  timeoutMs?: number;
}

/**
 * Connect to 127.0.0.1:`port`, send `before`, then `count` copies of `line` in large writes,
 * and read until the server closes the connection.
 *
 * @param port The server's port.
 * @param line The line (without "\n").
 * @param options Count, preamble and deadline.
 * @returns What the server sent, and how much it took.
 * @throws {Error} When the server does not close within the deadline.
 */
export async function floodLines(
  port: number,
  line: string,
  options: FloodOptions,
): Promise<FloodResult> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  const reading = (async () => {
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) return;
        chunks.push(buf.slice(0, n));
      }
    } catch {
      // Reset by the server: it closed with our flood unread.
    }
  })();
  let sent = 0;
  const writing = (async () => {
    try {
      for (const first of options.before ?? []) {
        const bytes = encoder.encode(first + "\n");
        for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
      }
      const block = encoder.encode((line + "\n").repeat(Math.min(options.count, 4096)));
      const lineBytes = line.length + 1;
      let left = options.count * lineBytes;
      while (left > 0) {
        const part = block.subarray(0, Math.min(block.length, left));
        for (let off = 0; off < part.length;) {
          const n = await conn.write(part.subarray(off));
          off += n;
          sent += n;
        }
        left -= part.length;
      }
    } catch {
      // The server closed the connection.
    }
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), options.timeoutMs ?? 60_000);
  });
  const outcome = await Promise.race([reading.then(() => "closed" as const), timeout]);
  clearTimeout(timer);
  try {
    conn.close();
  } catch {
    // Already closed.
  }
  await Promise.all([reading, writing]);
  if (outcome === "timeout") throw new Error("the server did not close the flooding connection");
  const received = new TextDecoder().decode(concat(chunks));
  const lines = received.split("\n");
  lines.pop();
  return { received, lines, sent };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const c of chunks) size += c.length;
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
