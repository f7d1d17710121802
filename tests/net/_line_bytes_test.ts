import assert from "node:assert/strict";
import { lineBytes } from "../../net/_line_bytes.ts";

const DECODER = new TextDecoder();

Deno.test("lineBytes() encodes UTF-8 with a newline", () => {
  assert.deepEqual(lineBytes("ok"), new Uint8Array([0x6f, 0x6b, 0x0a]));
  assert.deepEqual(lineBytes(""), new Uint8Array([0x0a]));
  assert.equal(DECODER.decode(lineBytes("héllo €")), "héllo €\n");
  // A lone surrogate becomes U+FFFD (three bytes), like TextEncoder.encode.
  assert.deepEqual(lineBytes("\ud800"), new TextEncoder().encode("\ud800\n"));
});

Deno.test("lineBytes() never changes bytes it handed out, across many slabs", () => {
  const kept: [string, Uint8Array][] = [];
  for (let i = 0; i < 20_000; i++) {
    const line = `{"id":${i},"result":true,"error":null}` + "€".repeat(i % 7);
    kept.push([line, lineBytes(line)]);
  }
  for (const [line, bytes] of kept) assert.equal(DECODER.decode(bytes), line + "\n");
});

Deno.test("lineBytes() gives a long line its own buffer", () => {
  const line = "x".repeat(100_000);
  const bytes = lineBytes(line);
  assert.equal(bytes.length, 100_001);
  assert.equal(bytes.byteOffset, 0);
  assert.equal(bytes.buffer.byteLength, 100_001);
  assert.equal(bytes[100_000], 0x0a);
});
