import assert from "node:assert/strict";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { toBase64 } from "../../hash/_wasm_gen/build.ts";
import { emitSha256Module, SHA256_LAYOUT } from "../../hash/_wasm_gen/sha256_emitter.ts";
import { CHUNK_BYTES, ONESHOT_MAX_BYTES, SHA256_WASM_BASE64 } from "../../hash/_sha256_wasm.ts";
import { bytesToHex } from "../../hash/hex.ts";
import {
  EXTRANONCE_MAX,
  EXTRANONCE_MIN,
  merkleRootFromTxRoot,
  metapackageHash,
  txRoot,
} from "../../hash/merkle.ts";
import { sha256, SHA256_SIZE, sha256Concat } from "../../hash/sha256.ts";

const text = (s: string) => new TextEncoder().encode(s);

/** Deterministic pseudo-random bytes (xorshift32), so a failure reproduces. */
function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

Deno.test("sha256() matches the FIPS 180-4 / NIST vectors", async (t) => {
  const cases: [string, Uint8Array, string][] = [
    ["empty", text(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", text("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    [
      "448 bits",
      text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ],
    [
      "896 bits",
      text(
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq" +
          "klmnopqrlmnopqrsmnopqrstnopqrstu",
      ),
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
    ],
    [
      "one million 'a'",
      new Uint8Array(1_000_000).fill(0x61),
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
    ],
  ];
  for (const [name, message, digest] of cases) {
    await t.step(name, () => assert.equal(bytesToHex(sha256(message)), digest));
  }
});

Deno.test("sha256() equals @noble/hashes for every length 0..300", () => {
  for (let n = 0; n <= 300; n++) {
    const message = randomBytes(n, 0x9e3779b9 + n);
    assert.deepEqual(sha256(message), nobleSha256(message), `length ${n}`);
  }
});

Deno.test("sha256() equals @noble/hashes around the one-shot and chunk limits", () => {
  const lengths = [
    ONESHOT_MAX_BYTES - 64,
    ONESHOT_MAX_BYTES - 1,
    ONESHOT_MAX_BYTES,
    ONESHOT_MAX_BYTES + 1,
    ONESHOT_MAX_BYTES + CHUNK_BYTES,
    2 * CHUNK_BYTES,
    3 * CHUNK_BYTES + 55,
    200_003,
  ];
  for (const n of lengths) {
    const message = randomBytes(n, n);
    assert.deepEqual(sha256(message), nobleSha256(message), `length ${n}`);
  }
});

Deno.test("sha256() hashes a view at a byte offset and leaves it unchanged", () => {
  const backing = randomBytes(200, 7);
  const view = backing.subarray(13, 13 + 64);
  const before = backing.slice();
  assert.deepEqual(sha256(view), nobleSha256(view));
  assert.deepEqual(backing, before);
});

Deno.test("sha256() returns a new 32-byte array each time", () => {
  const message = text("abc");
  const first = sha256(message);
  const second = sha256(message);
  assert.notEqual(first, second);
  assert.equal(first.length, SHA256_SIZE);
  assert.equal(first.byteOffset, 0);
  assert.equal(first.buffer.byteLength, SHA256_SIZE);
  first.fill(0);
  sha256(text("something else"));
  assert.deepEqual(second, nobleSha256(message));
  assert.deepEqual(sha256(message), nobleSha256(message));
});

Deno.test("sha256() and sha256Concat() write into { out } and return it", () => {
  const out = new Uint8Array(32);
  for (const n of [0, 40, 64, 300, ONESHOT_MAX_BYTES + 1]) {
    const message = randomBytes(n, n + 5);
    assert.equal(sha256(message, { out }), out);
    assert.deepEqual(out, nobleSha256(message), `length ${n}`);
    const backing = new Uint8Array(40);
    const view = backing.subarray(4, 36);
    assert.equal(
      sha256Concat(message.subarray(0, n >> 1), message.subarray(n >> 1), { out: view }),
      view,
    );
    assert.deepEqual(view, nobleSha256(message), `concat length ${n}`);
    assert.deepEqual(backing.subarray(0, 4), new Uint8Array(4));
  }
  assert.deepEqual(sha256(text("abc"), {}), nobleSha256(text("abc")));
  assert.deepEqual(sha256(text("abc"), { out: undefined }), nobleSha256(text("abc")));
});

Deno.test("sha256() rejects a bad { out }", () => {
  const data = text("abc");
  assert.throws(() => sha256(data, { out: new Uint8Array(31) }), {
    name: "RangeError",
    message: "Cannot hash: out must be 32 bytes, got 31",
  });
  assert.throws(() => sha256Concat(data, data, { out: new Uint8Array(64) }), {
    name: "RangeError",
    message: "Cannot hash: out must be 32 bytes, got 64",
  });
  assert.throws(() => sha256(data, { out: [] as unknown as Uint8Array }), {
    name: "TypeError",
    message: "Cannot hash: out must be a Uint8Array, got an array",
  });
  assert.throws(() => sha256(data, 5 as unknown as { out?: Uint8Array }), {
    name: "TypeError",
    message: "Cannot hash: options must be an object",
  });
});

Deno.test("sha256Concat() equals sha256() of the concatenation", () => {
  const message = randomBytes(300, 42);
  for (const [a, b] of [[0, 0], [0, 40], [32, 8], [32, 32], [55, 1], [64, 64], [7, 293]]) {
    const first = message.subarray(0, a!);
    const second = message.subarray(a!, a! + b!);
    assert.deepEqual(
      sha256Concat(first, second),
      nobleSha256(message.subarray(0, a! + b!)),
      `${a} + ${b}`,
    );
  }
  const big = randomBytes(ONESHOT_MAX_BYTES + 10, 3);
  assert.deepEqual(
    sha256Concat(big.subarray(0, 100), big.subarray(100)),
    nobleSha256(big),
  );
});

Deno.test("the merkle functions equal their @noble/hashes computation", () => {
  const pop = randomBytes(32, 1), normal = randomBytes(32, 2), meta = randomBytes(32, 3);
  const tx = nobleSha256(Uint8Array.of(...pop, ...normal));
  assert.deepEqual(txRoot(pop, normal), tx);
  const extranonces = [EXTRANONCE_MIN, -1n, 0n, 1n, EXTRANONCE_MAX, 0x7c000000000f4240n];
  for (let i = 0; i < 50; i++) extranonces.push(BigInt.asIntN(64, BigInt(i) * 0x9e3779b97f4a7c15n));
  for (const x of extranonces) {
    const be = new Uint8Array(8);
    new DataView(be.buffer).setBigInt64(0, x);
    const mh = nobleSha256(Uint8Array.of(...meta, ...be));
    assert.deepEqual(metapackageHash(meta, x), mh, `extranonce ${x}`);
    const root = nobleSha256(Uint8Array.of(...mh, ...tx));
    assert.deepEqual(merkleRootFromTxRoot({ txRoot: tx, metapackageHash: meta }, x), root);
  }
});

Deno.test("sha256() rejects values that are not a Uint8Array", () => {
  const bad: unknown[] = [
    undefined,
    null,
    "abc",
    42,
    [1, 2, 3],
    new ArrayBuffer(4),
    new Uint16Array(2),
    new DataView(new ArrayBuffer(4)),
    {},
  ];
  for (const value of bad) {
    assert.throws(
      () => sha256(value as Uint8Array),
      (e) => e instanceof TypeError && /^Cannot hash: data must be a Uint8Array/.test(e.message),
      String(value),
    );
  }
});

Deno.test("sha256Concat() rejects parts that are not a Uint8Array", () => {
  const ok = new Uint8Array(1);
  assert.throws(
    () => sha256Concat("a" as unknown as Uint8Array, ok),
    { name: "TypeError", message: "Cannot hash: first must be a Uint8Array, got string" },
  );
  assert.throws(
    () => sha256Concat(ok, null as unknown as Uint8Array),
    { name: "TypeError", message: "Cannot hash: second must be a Uint8Array, got null" },
  );
});

Deno.test("the committed hash/_sha256_wasm.ts matches the emitter and its layout", async () => {
  const bytes = emitSha256Module();
  assert.equal(WebAssembly.validate(bytes), true);
  assert.deepEqual(emitSha256Module(), bytes);
  assert.equal(SHA256_WASM_BASE64, toBase64(bytes));
  const generated = await import("../../hash/_sha256_wasm.ts") as Record<string, unknown>;
  for (const [name, constant] of Object.entries(SHA256_LAYOUT)) {
    assert.equal(generated[name], constant.value, name);
  }
  const names = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
  assert.deepEqual(names, ["memory", "init", "update", "final", "hash"]);
});

Deno.test("sha256() falls back to @noble/hashes without WebAssembly", async () => {
  const url = new URL("../../hash/sha256.ts", import.meta.url).href;
  const code = `
    delete globalThis.WebAssembly;
    const { sha256 } = await import(${JSON.stringify(url)});
    const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    console.log(hex(sha256(new TextEncoder().encode("abc"))), typeof WebAssembly);
  `;
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", config, code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout).trim();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  assert.equal(
    stdout,
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad undefined",
  );
});
