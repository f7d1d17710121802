import assert from "node:assert/strict";
import { readConfigFile } from "../../cli/_config_file.ts";
import { ConfigError } from "../../cli/config.ts";

const schema = {
  stratum: {
    listen: { kind: "string_list" as const, default: [], doc: "." },
    difficulty: { kind: "integer" as const, default: 1, doc: "." },
  },
  api: { listen: { kind: "string" as const, default: "", doc: "." } },
};

Deno.test("readConfigFile() names the line and column of each kind of mistake", async (t) => {
  const path = await Deno.makeTempFile({ suffix: ".toml" });
  const cases: [string, string, string][] = [
    ["a key under its table", '[api]\nlisten = "x"\n\n[stratum]\n  listn = []\n', "5:3"],
    ["a quoted key", '[stratum]\n"listn" = []\n', "2:1"],
    ["a dotted key at the top", 'api.listn = "x"\n', "1:1"],
    ["a dotted table header", "[stratum.listn]\nx = 1\n", "1:1"],
    ["a key of an inline table (its table's line)", "\nstratum = { listn = [] }\n", "2:1"],
    ["a section", "[api]\n[stratun]\n", "2:1"],
  ];
  try {
    for (const [name, text, at] of cases) {
      await t.step(name, async () => {
        await Deno.writeTextFile(path, text);
        assert.throws(
          () => readConfigFile(path, { required: true, schema }),
          (e: unknown) =>
            e instanceof ConfigError && e.message.startsWith(`${path}:${at}: Unknown `) &&
            / — did you mean (stratum\.listen|api\.listen|\[stratum\])\?$/.test(e.message),
        );
      });
    }
    await t.step("a TOML syntax error", async () => {
      await Deno.writeTextFile(path, "[stratum]\ndifficulty = = 1\n");
      assert.throws(
        () => readConfigFile(path, { required: true, schema }),
        (e: unknown) =>
          e instanceof ConfigError && e.message.startsWith(`${path}:2:14: Cannot parse TOML: `),
      );
    });
  } finally {
    await Deno.remove(path);
  }
});
