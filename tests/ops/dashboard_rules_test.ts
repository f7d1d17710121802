/**
 * The Grafana dashboard (ops/grafana/vbkpool.json) and the Prometheus rules
 * (ops/prometheus/alerts.yml) use only metrics that a running `vbkpool server` exposes: every
 * PromQL expression is parsed for metric names, which are looked up in a live `/metrics`. The
 * rules cover every webhook event. With `promtool` installed, both are also checked by it.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ALERT_EVENT_TYPES } from "../../log/mod.ts";
import { spawnVbkpool, withTempDir } from "../_process.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DASHBOARD = `${ROOT}ops/grafana/vbkpool.json`;
const RULES = `${ROOT}ops/prometheus/alerts.yml`;

/** Series Prometheus makes itself (not on any /metrics). */
const PROMETHEUS_OWN = new Set(["up"]);

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "offset",
  "bool",
  "and",
  "or",
  "unless",
  "inf",
  "nan",
]);

/**
 * The metric names in a PromQL expression: strings, label matchers, grouping clauses, ranges,
 * durations and Grafana variables removed; what is left that is not a function call, a keyword
 * or a number is a metric name.
 */
export function metricNames(expr: string): string[] {
  const e = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\$\{?\w+\}?/g, "5m")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\boffset\s+\d+[smhdwy]/g, " ");
  const names = new Set<string>();
  for (const m of e.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0];
    const after = e.slice(m.index! + word.length).trimStart();
    if (after.startsWith("(") || KEYWORDS.has(word.toLowerCase())) continue;
    if (/^\d/.test(word)) continue;
    names.add(word);
  }
  return [...names];
}

/** Every `expr` of a rules file (plain or block scalar). */
function ruleExpressions(text: string): string[] {
  const lines = text.split("\n");
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)expr:\s*(.*)$/.exec(lines[i]!);
    if (m === null) continue;
    if (m[2] !== "|" && m[2] !== ">") {
      out.push(m[2]!);
      continue;
    }
    const indent = m[1]!.length;
    const body: string[] = [];
    while (
      i + 1 < lines.length && (lines[i + 1]!.trim() === "" ||
        lines[i + 1]!.search(/\S/) > indent)
    ) body.push(lines[++i]!.trim());
    out.push(body.join(" "));
  }
  return out;
}

/** Every PromQL expression of the dashboard (panel targets, annotations, variable queries). */
function dashboardExpressions(dashboard: Record<string, unknown>): string[] {
  const out: string[] = [];
  const walk = (v: unknown, key = ""): void => {
    if (Array.isArray(v)) v.forEach((x) => walk(x));
    else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) walk(x, k);
    } else if (typeof v === "string" && (key === "expr" || key === "definition")) {
      out.push(v.replace(/^label_values\(([^,]+),.*\)$/, "$1"));
    }
  };
  walk(dashboard);
  return out;
}

/** Metric names on a /metrics page (histograms with their series suffixes). */
function exposed(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\w+)$/gm)) {
    names.add(m[1]!);
    if (m[2] === "histogram") {
      for (const s of ["_bucket", "_sum", "_count"]) names.add(m[1]! + s);
    }
  }
  return names;
}

Deno.test("metricNames() finds the metrics of PromQL expressions", () => {
  assert.deepEqual(
    metricNames(
      'histogram_quantile(0.99, sum by (le, instance) (rate(a_bucket{x=~"$i",y="b c"}[$__rate_interval])))',
    ),
    ["a_bucket"],
  );
  assert.deepEqual(
    metricNames("x < 0.5 * avg_over_time(x[1h] offset 10m) and on (instance) y > 0"),
    ["x", "y"],
  );
  assert.deepEqual(metricNames('time() - process_start_time_seconds{instance=~"$instance"}'), [
    "process_start_time_seconds",
  ]);
  assert.deepEqual(metricNames('up{job="vbkpool"} == 0'), ["up"]);
});

Deno.test("every metric of the Grafana dashboard and the Prometheus rules is on a live /metrics", async () => {
  const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD));
  assert.equal(dashboard.uid, "vbkpool");
  const rulesText = await Deno.readTextFile(RULES);
  const rules = ruleExpressions(rulesText);
  assert.equal(rules.length, (rulesText.match(/^\s*- alert: /gm) ?? []).length);
  const expressions = [...dashboardExpressions(dashboard), ...rules];
  assert.ok(expressions.length > 40, `${expressions.length} expressions`);
  // The rules page for every webhook event.
  // The rules page for every webhook event (a recovery through the rule of its outage).
  const lower = rulesText.toLowerCase();
  for (const type of ALERT_EVENT_TYPES) {
    const outage = type.replace(/_up$/, "_down").replace(/_recovered$/, "_failing");
    assert.ok(lower.includes(`webhook ${outage}`), `no rule for ${type}`);
  }
  await withTempDir("vbkpool-ops-metrics-", async (dir) => {
    const server = spawnVbkpool(["server", "--listen", "127.0.0.1:0"], {
      cwd: dir,
      env: { VBKPOOL_API_LISTEN: "127.0.0.1:0", VBKPOOL_STRATUM_STATS_INTERVAL_SECONDS: "0" },
    });
    try {
      const { api } = await server.serverAddresses();
      const names = exposed(await (await fetch(`${api}/metrics`)).text());
      const missing: string[] = [];
      for (const expr of expressions) {
        for (const name of metricNames(expr)) {
          if (!names.has(name) && !PROMETHEUS_OWN.has(name)) missing.push(`${name} (in ${expr})`);
        }
      }
      assert.deepEqual(missing, []);
      assert.equal(await server.stop(), 0, server.err);
    } finally {
      await server.kill();
    }
  });
});

Deno.test("promtool accepts the rules and the dashboard's queries", async (t) => {
  // A missing executable throws at once in Deno 2.9 (not a rejected promise).
  const promtool = await Promise.resolve()
    .then(() => new Deno.Command("promtool", { args: ["--version"], stdout: "null" }).output())
    .then(() => true, () => false);
  if (!promtool) {
    console.log("SKIPPED promtool checks (promtool not installed; apt-get install prometheus)");
    return;
  }
  const check = async (path: string) => {
    const r = await new Deno.Command("promtool", {
      args: ["check", "rules", path],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
  };
  await t.step("rules", async () => {
    const r = await check(RULES);
    assert.equal(r.code, 0, r.out);
  });
  await t.step("dashboard queries (as recording rules, Grafana variables filled in)", async () => {
    const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD));
    const exprs = dashboardExpressions(dashboard).map((e) =>
      e.replaceAll("$__rate_interval", "5m").replaceAll("$instance", ".*")
    );
    const yaml = "groups:\n  - name: dashboard\n    rules:\n" +
      exprs.map((e, i) =>
        `      - record: dashboard_query_${i}\n        expr: ${JSON.stringify(e)}\n`
      )
        .join("");
    const path = await Deno.makeTempFile({ suffix: ".yml" });
    try {
      await Deno.writeTextFile(path, yaml);
      const r = await check(path);
      assert.equal(r.code, 0, r.out);
    } finally {
      await Deno.remove(path);
    }
  });
});
