import assert from "node:assert/strict";
import { ConfigError, loadConfig, renderExample } from "../../cli/config.ts";
import { SCHEMA, SECTION_DOCS } from "../../cli/config_schema.ts";
import { EXAMPLE_HEADER } from "../../cli/example.ts";

const schema = {
  log: {
    level: {
      kind: "string" as const,
      default: "info",
      choices: ["debug", "info", "warning"],
      doc: "level",
    },
  },
  stratum: {
    port: { kind: "integer" as const, default: 3333, min: 1, max: 65535, doc: "port" },
    enabled: { kind: "boolean" as const, default: true, doc: "on" },
    peers: { kind: "string_list" as const, default: [], doc: "peers" },
  },
};

async function withFile<T>(text: string, fn: (path: string) => T): Promise<T> {
  const path = await Deno.makeTempFile({ suffix: ".toml" });
  try {
    await Deno.writeTextFile(path, text);
    return fn(path);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("loadConfig() applies flag > env > file > default", async () => {
  const toml = '[log]\nlevel = "warning"\n[stratum]\nport = 4000\nenabled = false\n';
  await withFile(toml, (path) => {
    const fileOnly = loadConfig(schema, { path, env: {} });
    assert.equal(fileOnly.values.log!.level, "warning");
    assert.equal(fileOnly.values.stratum!.port, 4000);
    assert.equal(fileOnly.values.stratum!.enabled, false);
    assert.deepEqual(fileOnly.values.stratum!.peers, []);
    assert.equal(fileOnly.sources["stratum.peers"], "default");

    const env = { VBKPOOL_STRATUM_PORT: "5000", VBKPOOL_LOG_LEVEL: "debug" };
    const withEnv = loadConfig(schema, { path, env });
    assert.equal(withEnv.values.stratum!.port, 5000);
    assert.equal(withEnv.sources["stratum.port"], "env");
    assert.equal(withEnv.values.log!.level, "debug");

    const withFlag = loadConfig(schema, { path, env, flags: { "stratum.port": "6000" } });
    assert.equal(withFlag.values.stratum!.port, 6000);
    assert.equal(withFlag.sources["stratum.port"], "flag");
    assert.equal(withFlag.values.log!.level, "debug");
  });
});

Deno.test("loadConfig() uses the default file only when present", () => {
  const cfg = loadConfig(schema, { env: {}, defaultPath: "/nonexistent/vbkpool.toml" });
  assert.equal(cfg.file, undefined);
  assert.equal(cfg.values.stratum!.port, 3333);
  assert.throws(
    () => loadConfig(schema, { env: {}, path: "/nonexistent/x.toml" }),
    (e: unknown) => e instanceof ConfigError && /Cannot read configuration file/.test(e.message),
  );
});

Deno.test("loadConfig() errors name the key, the value and what was expected", async (t) => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      "bad env integer",
      () => loadConfig(schema, { env: { VBKPOOL_STRATUM_PORT: "eighty" }, defaultPath: "/no" }),
      /stratum\.port \(environment VBKPOOL_STRATUM_PORT\): got "eighty", expected an integer from 1 to 65535/,
    ],
    [
      "out of range flag",
      () => loadConfig(schema, { env: {}, defaultPath: "/no", flags: { "stratum.port": "0" } }),
      /stratum\.port \(flag\): got "0", expected an integer from 1 to 65535/,
    ],
    [
      "bad choice",
      () => loadConfig(schema, { env: {}, defaultPath: "/no", flags: { "log.level": "loud" } }),
      /log\.level \(flag\): got "loud", expected one of debug, info, warning/,
    ],
    [
      "bad boolean env",
      () => loadConfig(schema, { env: { VBKPOOL_STRATUM_ENABLED: "maybe" }, defaultPath: "/no" }),
      /stratum\.enabled .*expected true or false/,
    ],
  ];
  for (const [name, fn, re] of cases) {
    await t.step(name, () => {
      assert.throws(fn, (e: unknown) => e instanceof ConfigError && re.test(e.message));
    });
  }
  await t.step("wrong type in file", async () => {
    await withFile('[stratum]\nport = "x"\n', (path) => {
      assert.throws(
        () => loadConfig(schema, { path, env: {} }),
        (e: unknown) =>
          e instanceof ConfigError && /stratum\.port \(.*\.toml\): got "x", expected an integer/
            .test(e.message),
      );
    });
  });
  const fileCases: [string, string, (path: string) => RegExp][] = [
    [
      "misspelt key in file, with the closest key",
      '[log]\nlevel = "info"\n\n[stratum]\n  prot = 1\n',
      (p) => re(`${p}:5:3: Unknown configuration key stratum.prot — did you mean stratum.port?`),
    ],
    [
      "unknown key in file, with the section's keys",
      "[stratum]\nzzzzzz = 1\n",
      (p) => re(`${p}:2:1: Unknown configuration key stratum.zzzzzz; known keys of [stratum] are`),
    ],
    [
      "misspelt dotted key",
      "stratum.enabld = true\n",
      (p) =>
        re(`${p}:1:1: Unknown configuration key stratum.enabld — did you mean stratum.enabled?`),
    ],
    [
      "misspelt section",
      "[log]\n[stratun]\nport = 1\n",
      (p) => re(`${p}:2:1: Unknown configuration section [stratun] — did you mean [stratum]?`),
    ],
    [
      "unknown section",
      "[nope]\nx = 1\n",
      (p) => re(`${p}:1:1: Unknown configuration section [nope]; known sections are log, stratum`),
    ],
    [
      "malformed TOML, with line and column",
      '[stratum]\nport = 1\npeers = ["a"\nenabled = true\n',
      (p) => re(`${p}:4:1: Cannot parse TOML: `),
    ],
    ["bad value, with line and column", "[stratum]\nport = = 1\n", (p) => re(`${p}:2:8: `)],
  ];
  for (const [name, text, message] of fileCases) {
    await t.step(name, async () => {
      await withFile(text, (path) => {
        assert.throws(
          () => loadConfig(schema, { path, env: {} }),
          (e: unknown) => e instanceof ConfigError && message(path).test(e.message),
        );
      });
    });
  }
});

/** A RegExp matching `text` literally at the start. */
function re(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`);
}

Deno.test("loadConfig() warns about each unknown VBKPOOL_ variable, with the closest name", () => {
  const env = {
    VBKPOOL_STRATUM_PROT: "1",
    VBKPOOL_LOG_LEVL: "debug",
    VBKPOOL_NOTHING_LIKE_IT: "x",
    VBKPOOL_TEST_POSTGRES_URL: "postgres://x",
    VBKPOOL_CACHE_DIR: "/var/cache/vbkpool", // the executable's launcher reads it
    VBKPOOL_STRATUM_PORT: "4000",
    HOME: "/root",
  };
  const cfg = loadConfig(schema, { env, defaultPath: "/no" });
  assert.equal(cfg.values.stratum!.port, 4000);
  assert.deepEqual(cfg.warnings, [
    "Unknown environment variable VBKPOOL_LOG_LEVL is ignored — did you mean VBKPOOL_LOG_LEVEL?",
    "Unknown environment variable VBKPOOL_NOTHING_LIKE_IT is ignored",
    "Unknown environment variable VBKPOOL_STRATUM_PROT is ignored — did you mean " +
    "VBKPOOL_STRATUM_PORT?",
  ]);
});

Deno.test("loadConfig() loads single keys of a section when asked to", () => {
  const cfg = loadConfig(schema, { env: {}, defaultPath: "/no", sections: ["stratum.port"] });
  assert.deepEqual(cfg.values, { stratum: { port: 3333 } });
  assert.deepEqual(Object.keys(cfg.sources), ["stratum.port"]);
});

Deno.test("loadConfig() reads lists from env as comma-separated text", () => {
  const cfg = loadConfig(schema, { env: { VBKPOOL_STRATUM_PEERS: "a, b,,c" }, defaultPath: "/no" });
  assert.deepEqual(cfg.values.stratum!.peers, ["a", "b", "c"]);
});

Deno.test("vbkpool.example.toml is the rendered schema and loads cleanly", async () => {
  const rendered = renderExample(SCHEMA, { header: EXAMPLE_HEADER, sectionDocs: SECTION_DOCS });
  const committed = await Deno.readTextFile(new URL("../../vbkpool.example.toml", import.meta.url));
  assert.equal(committed, rendered, "run `deno task gen:example`");
  const path = new URL("../../vbkpool.example.toml", import.meta.url).pathname;
  const cfg = loadConfig(SCHEMA, { path, env: {} });
  for (const [name, source] of Object.entries(cfg.sources)) assert.equal(source, "file", name);
});
