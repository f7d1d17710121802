import assert from "node:assert/strict";
import { encodeLine, LineFramer, LineTooLongError } from "../../protocol/line_framer.ts";

const enc = new TextEncoder();

function bytes(text: string): Uint8Array {
  return enc.encode(text);
}

Deno.test("LineFramer.push() returns every line of a chunk", () => {
  const framer = new LineFramer({ maxLineBytes: 100 });
  assert.deepEqual(framer.push(bytes("a\nbb\nccc\n")), ["a", "bb", "ccc"]);
  assert.equal(framer.bufferedBytes, 0);
});

Deno.test("LineFramer.push() strips one trailing CR and skips empty lines", () => {
  const framer = new LineFramer({ maxLineBytes: 100 });
  assert.deepEqual(framer.push(bytes("a\r\n\n\r\n b \r\nc\r\r\n")), ["a", " b ", "c\r"]);
});

Deno.test("LineFramer.push() keeps partial data across chunks", () => {
  const framer = new LineFramer({ maxLineBytes: 100 });
  assert.deepEqual(framer.push(bytes('{"id"')), []);
  assert.equal(framer.bufferedBytes, 5);
  assert.deepEqual(framer.push(bytes(":1")), []);
  assert.deepEqual(framer.push(bytes('}\n{"id":2}\n{')), ['{"id":1}', '{"id":2}']);
  assert.equal(framer.bufferedBytes, 1);
  assert.deepEqual(framer.push(bytes("}\r")), []);
  assert.deepEqual(framer.push(bytes("\n")), ["{}"]);
});

Deno.test("LineFramer.push() joins multi-byte UTF-8 split at every byte", () => {
  const text = "é€😀 VBK\n";
  const all = bytes(text + text);
  const framer = new LineFramer({ maxLineBytes: 100 });
  const lines: string[] = [];
  for (let i = 0; i < all.length; i++) lines.push(...framer.push(all.subarray(i, i + 1)));
  assert.deepEqual(lines, ["é€😀 VBK", "é€😀 VBK"]);
});

Deno.test("LineFramer.push() handles every split point of a two-line stream", () => {
  const all = bytes('{"a":"ü"}\r\n{"b":2}\n');
  for (let cut = 0; cut <= all.length; cut++) {
    const framer = new LineFramer({ maxLineBytes: 100 });
    const lines = [...framer.push(all.subarray(0, cut)), ...framer.push(all.subarray(cut))];
    assert.deepEqual(lines, ['{"a":"ü"}', '{"b":2}'], `cut at ${cut}`);
    assert.equal(framer.bufferedBytes, 0);
  }
});

Deno.test("LineFramer.push() copies partial data so the caller can reuse its buffer", () => {
  const framer = new LineFramer({ maxLineBytes: 100 });
  const buffer = bytes("abc");
  framer.push(buffer);
  buffer.fill(0x7a);
  assert.deepEqual(framer.push(bytes("\n")), ["abc"]);
});

Deno.test("LineFramer.push() decodes invalid UTF-8 as U+FFFD", () => {
  const framer = new LineFramer({ maxLineBytes: 100 });
  assert.deepEqual(framer.push(new Uint8Array([0x61, 0xff, 0x62, 0x0a])), ["a\uFFFDb"]);
});

Deno.test("LineFramer.push() accepts lines of exactly maxLineBytes", async (t) => {
  const max = 8;
  const rows: [string, string[]][] = [
    ["12345678\n", ["12345678"]],
    ["12345678\r\n", ["12345678"]],
    ["1234567\r\n", ["1234567"]],
  ];
  for (const [input, expected] of rows) {
    await t.step(JSON.stringify(input), () => {
      const framer = new LineFramer({ maxLineBytes: max });
      assert.deepEqual(framer.push(bytes(input)), expected);
      const split = new LineFramer({ maxLineBytes: max });
      const lines = [...split.push(bytes(input.slice(0, -1))), ...split.push(bytes("\n"))];
      assert.deepEqual(lines, expected);
    });
  }
});

Deno.test("LineFramer.push() throws LineTooLongError past the limit", async (t) => {
  const rows: [string, string[]][] = [
    ["123456789\n", []],
    ["ok\n123456789\nlost\n", ["ok"]],
    ["123456789", []],
    ["12345678\r\r\n", []],
    ["a\nb\n12345678x", ["a", "b"]],
  ];
  for (const [input, before] of rows) {
    await t.step(JSON.stringify(input), () => {
      const framer = new LineFramer({ maxLineBytes: 8 });
      let error: unknown;
      try {
        framer.push(bytes(input));
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof RangeError);
      assert.ok(error instanceof LineTooLongError);
      assert.equal(error.message, "Cannot frame line: longer than 8 bytes");
      assert.deepEqual(error.lines, before);
      assert.equal(framer.bufferedBytes, 0);
    });
  }
});

Deno.test("LineFramer.push() throws when the unterminated rest grows past the limit", () => {
  const framer = new LineFramer({ maxLineBytes: 8 });
  assert.deepEqual(framer.push(bytes("1234")), []);
  assert.deepEqual(framer.push(bytes("5678")), []);
  assert.deepEqual(framer.push(bytes("\r")), []);
  assert.throws(() => framer.push(bytes("x")), LineTooLongError);
  // The buffer was dropped; the framer still works for whoever keeps it.
  assert.deepEqual(framer.push(bytes("ok\n")), ["ok"]);
});

Deno.test("LineFramer.push() frames a long line fed byte by byte", () => {
  const line = "x".repeat(5000);
  const all = bytes(line + "\n");
  const framer = new LineFramer({ maxLineBytes: 16384 });
  const lines: string[] = [];
  for (let i = 0; i < all.length; i++) lines.push(...framer.push(all.subarray(i, i + 1)));
  assert.deepEqual(lines, [line]);
});

Deno.test("LineFramer.push() returns nothing for an empty chunk", () => {
  const framer = new LineFramer({ maxLineBytes: 8 });
  assert.deepEqual(framer.push(new Uint8Array(0)), []);
});

Deno.test("LineFramer() rejects a bad maxLineBytes", async (t) => {
  for (const value of [0, -1, 1.5, NaN, Infinity, "8" as unknown as number]) {
    await t.step(String(value), () => {
      assert.throws(() => new LineFramer({ maxLineBytes: value }), RangeError);
    });
  }
});

Deno.test("encodeLine() appends a newline and encodes UTF-8", () => {
  assert.deepEqual(encodeLine("é"), new Uint8Array([0xc3, 0xa9, 0x0a]));
  assert.deepEqual(encodeLine(""), new Uint8Array([0x0a]));
});
