/**
 * The parts of the single-file executable builder that need no build: the tar writer (read
 * back by the system's tar, which the launcher unpacks with), the header filler, and the pinned
 * Deno version agreeing with the one CI installs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DENO_VERSION, launcherScript, ustar } from "../../_tools/compile.ts";

const FIELDS = {
  version: "1.2.3",
  denoVersion: "2.9.5",
  payloadSha256: "0123456789abcdef".repeat(4),
  payloadSize: 99_999,
  denoSize: 5,
  programSize: 7,
};

Deno.test("ustar() writes an archive that tar lists and unpacks byte for byte", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-ustar-" });
  try {
    const big = crypto.getRandomValues(new Uint8Array(1537));
    const files = [
      { name: "deno", data: big, mode: 0o755 },
      { name: "vbkpool.js", data: new TextEncoder().encode("console.log(1);\n"), mode: 0o644 },
      { name: "empty", data: new Uint8Array(0), mode: 0o600 },
    ];
    const tar = ustar(files);
    assert.equal(tar.size % 512, 0);
    await Deno.writeFile(join(dir, "a.tar"), new Uint8Array(await tar.arrayBuffer()));
    const listed = await new Deno.Command("tar", {
      args: ["-tvf", "a.tar"],
      cwd: dir,
      env: { TZ: "UTC" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(listed.stderr), "");
    const lines = new TextDecoder().decode(listed.stdout).trim().split("\n");
    assert.match(lines[0]!, /^-rwxr-xr-x 0\/0 +1537 1970-01-01 00:00 deno$/);
    assert.match(lines[1]!, /^-rw-r--r-- 0\/0 +16 1970-01-01 00:00 vbkpool\.js$/);
    assert.match(lines[2]!, /^-rw------- 0\/0 +0 1970-01-01 00:00 empty$/);
    await Deno.mkdir(join(dir, "out"));
    const unpacked = await new Deno.Command("tar", {
      args: ["-xmf", "a.tar", "-C", "out"],
      cwd: dir,
      stderr: "piped",
    }).output();
    assert.equal(unpacked.code, 0, new TextDecoder().decode(unpacked.stderr));
    for (const f of files) assert.deepEqual(await Deno.readFile(join(dir, "out", f.name)), f.data);
    assert.equal((await Deno.stat(join(dir, "out", "deno"))).mode! & 0o777, 0o755);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ustar() refuses a name longer than a ustar header holds", () => {
  assert.throws(
    () => ustar([{ name: "x".repeat(101), data: new Uint8Array(1), mode: 0o644 }]),
    RangeError,
  );
});

Deno.test("launcherScript() fills every field and counts its own length into FILE_SIZE", () => {
  const template = "#!/bin/sh\nV=@VBKPOOL_VERSION@ D=@DENO_VERSION@ S=@PAYLOAD_SHA256@\n" +
    "K=$V-@PAYLOAD_ID@ P=@PAYLOAD_SIZE@ F=@FILE_SIZE@ A=@DENO_SIZE@ B=@PROGRAM_SIZE@\n";
  const header = launcherScript(template, FIELDS);
  const size = new TextEncoder().encode(header).length + FIELDS.payloadSize;
  assert.equal(
    header,
    `#!/bin/sh\nV=1.2.3 D=2.9.5 S=${FIELDS.payloadSha256}\n` +
      `K=$V-0123456789abcdef P=99999 F=${size} A=5 B=7\n`,
  );
  // 99999 + a header of 100-odd bytes crosses into six digits: the fill settles anyway.
  assert.equal(String(size).length, 6);
});

Deno.test("launcherScript() refuses unknown placeholders and values unsafe in sh", () => {
  assert.throws(() => launcherScript("X=@NOPE@\n", FIELDS), SyntaxError);
  assert.throws(
    () => launcherScript("V='@VBKPOOL_VERSION@'\n", { ...FIELDS, version: "1.0'; rm -rf /'" }),
    TypeError,
  );
});

Deno.test("the executable carries the Deno version that CI installs", async () => {
  const ci = await Deno.readTextFile(new URL("../../.ci/run", import.meta.url));
  assert.equal(/^DENO_VERSION=(\S+)$/m.exec(ci)?.[1], DENO_VERSION);
});
