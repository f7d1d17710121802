/**
 * ops/install.sh into a temporary root (DESTDIR): what it installs, with which modes, what it
 * keeps on a second run, what it refuses; the installed configuration loads for `server`; the
 * installed unit passes `systemd-analyze verify` (when systemd-analyze is there).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { SCHEMA } from "../../cli/config_schema.ts";
import { loadConfig } from "../../cli/config.ts";
import { serverCommand } from "../../cli/server.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const INSTALL = `${ROOT}ops/install.sh`;

async function install(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command("sh", {
    args: [INSTALL, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

function mode(path: string): string {
  return (Deno.statSync(path).mode! & 0o777).toString(8);
}

async function fakeBuild(dir: string): Promise<string> {
  const binary = `${dir}/build/vbkpool`;
  await Deno.mkdir(`${dir}/build`);
  await Deno.writeTextFile(binary, "#!/bin/sh\necho vbkpool 0.1.0\n");
  const sum = new Deno.Command("sha256sum", { args: [binary], stdout: "piped" }).outputSync();
  await Deno.writeTextFile(`${binary}.sha256`, new TextDecoder().decode(sum.stdout));
  return binary;
}

/** Output of `systemd-analyze verify`, or undefined when it is not installed. */
async function verifyUnit(path: string): Promise<{ code: number; output: string } | undefined> {
  try {
    const r = await new Deno.Command("systemd-analyze", {
      args: ["verify", path],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: r.code, output: (dec.decode(r.stdout) + dec.decode(r.stderr)).trim() };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

Deno.test("ops/install.sh stages the executable, the unit and the configuration into DESTDIR", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-install-" });
  try {
    const binary = await fakeBuild(dir);
    const dest = `${dir}/root`;
    const env = { DESTDIR: dest, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
    const first = await install(["--binary", binary, "--prefix", "/opt/vbkpool"], env);
    assert.equal(first.code, 0, first.err);
    const exe = `${dest}/opt/vbkpool/bin/vbkpool`;
    const unit = `${dest}/etc/systemd/system/vbkpool.service`;
    const config = `${dest}/etc/vbkpool/vbkpool.toml`;
    const secrets = `${dest}/etc/vbkpool/vbkpool.env`;
    assert.equal(mode(exe), "755");
    assert.equal(mode(unit), "644");
    assert.equal(mode(config), "644");
    assert.equal(mode(secrets), "600");
    assert.equal(await Deno.readTextFile(exe), await Deno.readTextFile(binary));
    const unitText = await Deno.readTextFile(unit);
    assert.match(unitText, /^ExecStart=\/opt\/vbkpool\/bin\/vbkpool server --config /m);
    for (
      const directive of [
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "StateDirectory=vbkpool",
        "LimitNOFILE=65536",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
      ]
    ) {
      assert.ok(unitText.includes(`\n${directive}\n`), directive);
    }
    // The installed configuration is valid for `server` (no unknown key, no bad value).
    const loaded = loadConfig(SCHEMA, {
      path: config,
      env: {},
      sections: serverCommand.sections,
    });
    assert.equal(loaded.values.store!.url, "/var/lib/vbkpool/vbkpool.sqlite");
    assert.deepEqual(loaded.values.nodecore!.endpoints, ["127.0.0.1:8501"]);
    // A second run keeps the operator's files and puts the new ones beside them.
    await Deno.writeTextFile(config, "# edited by the operator\n");
    const second = await install(["--binary", binary, "--prefix", "/opt/vbkpool"], env);
    assert.equal(second.code, 0, second.err);
    assert.equal(await Deno.readTextFile(config), "# edited by the operator\n");
    assert.match(second.out, /kept .*vbkpool\.toml/);
    assert.equal(mode(`${config}.new`), "644");
    assert.equal(mode(`${secrets}.new`), "600");
    // The staged unit passes systemd-analyze verify (pointed at the staged executable).
    const check = `${dir}/check/vbkpool.service`;
    await Deno.mkdir(`${dir}/check`);
    await Deno.writeTextFile(check, unitText.replaceAll("/opt/vbkpool/bin/vbkpool", exe));
    const verified = await verifyUnit(check);
    if (verified === undefined) {
      console.log("SKIPPED systemd-analyze verify (systemd-analyze is not installed)");
    } else {
      assert.deepEqual(verified, { code: 0, output: "" });
      // And the check would see a mistake.
      await Deno.writeTextFile(check, unitText.replace("ProtectSystem=strict", "ProtectSystem=x"));
      assert.match((await verifyUnit(check))!.output, /protect system value/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ops/install.sh refuses a missing or altered executable and bad options", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-install-bad-" });
  try {
    const binary = await fakeBuild(dir);
    const env = { DESTDIR: `${dir}/root`, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
    const missing = await install(["--binary", `${dir}/nope`], env);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /not found: build it first with 'deno task compile'/);
    await Deno.writeTextFile(binary, "tampered\n", { append: true });
    const altered = await install(["--binary", binary], env);
    assert.equal(altered.code, 1);
    assert.match(altered.err, /does not match .*\.sha256/);
    for (const args of [["--prefix", "relative"], ["--prefix", "/a b"], ["--frobnicate"]]) {
      const r = await install(args, env);
      assert.equal(r.code, 2, args.join(" "));
    }
    // Nothing was installed by any of these.
    assert.equal(await Deno.stat(`${dir}/root`).then(() => true, () => false), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
