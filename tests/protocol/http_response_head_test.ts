import assert from "node:assert/strict";
import {
  encodeChunk,
  encodeResponseHead,
  HTTP_REASONS,
} from "../../protocol/http_response_head.ts";

const dec = new TextDecoder("latin1");

Deno.test("encodeResponseHead() writes the status line and every field in order", () => {
  const head = encodeResponseHead(200, [
    ["content-type", "application/json; charset=utf-8"],
    ["x-value", "caf\xe9"],
  ]);
  assert.equal(
    dec.decode(head),
    "HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\nx-value: caf\xe9\r\n\r\n",
  );
  assert.equal(head.length, dec.decode(head).length, "one byte per character");
});

Deno.test("encodeResponseHead() gives an empty phrase to statuses it does not name", () => {
  assert.equal(dec.decode(encodeResponseHead(299, [])), "HTTP/1.1 299 \r\n\r\n");
  assert.equal(HTTP_REASONS[431], "Request Header Fields Too Large");
});

Deno.test("encodeResponseHead() throws RangeError on a status that is not three digits", () => {
  for (const status of [99, 1000, 200.5, NaN]) {
    assert.throws(
      () => encodeResponseHead(status, []),
      RangeError,
      `Cannot encode response head: status must be 100-999, got ${status}`,
    );
  }
});

Deno.test("encodeChunk() frames data in hex and ends with an empty chunk", () => {
  const data = new Uint8Array(300).fill(0x78);
  assert.equal(dec.decode(encodeChunk(data)), `12c\r\n${"x".repeat(300)}\r\n`);
  assert.equal(dec.decode(encodeChunk(new Uint8Array(0))), "0\r\n\r\n");
});
