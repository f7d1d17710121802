import assert from "node:assert/strict";
import { formatValue, MetricsRegistry } from "../../api/metrics_registry.ts";
import { parsePrometheus, sampleValue } from "./_prometheus.ts";

Deno.test("MetricsRegistry.render() writes HELP, TYPE and samples that a strict parser accepts", () => {
  const r = new MetricsRegistry();
  const c = r.counter("app_requests_total", { help: "Requests.", labelNames: ["route", "code"] });
  c.inc({ route: "/a", code: "200" });
  c.inc({ route: "/a", code: "200" }, 2);
  c.inc({ route: "/b", code: "404" });
  const g = r.gauge("app_temperature", { help: "Temperature." });
  g.set({}, -3.5);
  const h = r.histogram("app_latency_seconds", {
    help: "Latency.",
    labelNames: ["route"],
    buckets: [0.1, 0.5, 1],
  });
  h.observe({ route: "/a" }, 0.05);
  h.observe({ route: "/a" }, 0.3);
  h.observe({ route: "/a" }, 7);
  h.observe({ route: "/b" }, 0.5);
  const text = r.render();
  const families = parsePrometheus(text);
  assert.deepEqual([...families.keys()], [
    "app_requests_total",
    "app_temperature",
    "app_latency_seconds",
  ]);
  assert.equal(families.get("app_requests_total")!.type, "counter");
  assert.equal(families.get("app_latency_seconds")!.type, "histogram");
  assert.equal(sampleValue(families, "app_requests_total", { route: "/a", code: "200" }), 3);
  assert.equal(sampleValue(families, "app_temperature"), -3.5);
  assert.equal(sampleValue(families, "app_latency_seconds_bucket", { route: "/a", le: "0.1" }), 1);
  assert.equal(sampleValue(families, "app_latency_seconds_bucket", { route: "/a", le: "0.5" }), 2);
  assert.equal(sampleValue(families, "app_latency_seconds_bucket", { route: "/a", le: "+Inf" }), 3);
  assert.equal(sampleValue(families, "app_latency_seconds_sum", { route: "/a" }), 7.35);
  assert.equal(sampleValue(families, "app_latency_seconds_count", { route: "/b" }), 1);
  assert.equal(h.get({ route: "/a" }).count, 3);
});

Deno.test("MetricsRegistry.render() escapes label values and help text", () => {
  const r = new MetricsRegistry();
  r.counter("x_total", { help: 'Back\\slash and\nnewline "quotes"', labelNames: ["v"] })
    .inc({ v: 'a"b\\c\nd' });
  const text = r.render();
  assert.match(text, /^# HELP x_total Back\\\\slash and\\nnewline "quotes"$/m);
  assert.match(text, /^x_total\{v="a\\"b\\\\c\\nd"\} 1$/m);
  const families = parsePrometheus(text);
  assert.equal(families.get("x_total")!.help, 'Back\\slash and\nnewline "quotes"');
  assert.equal(families.get("x_total")!.samples[0]!.labels.v, 'a"b\\c\nd');
});

Deno.test("MetricsRegistry shows unlabeled metrics at 0 and runs collectors before rendering", () => {
  const r = new MetricsRegistry();
  r.counter("none_total", { help: "Never counted." });
  r.histogram("h_seconds", { help: "Never observed.", buckets: [1] });
  const g = r.gauge("level", { help: "Polled." });
  let polled = 0;
  const stop = r.onCollect(() => g.set({}, ++polled));
  r.onCollect(() => {
    throw new Error("a broken collector is ignored");
  });
  const families = parsePrometheus(r.render());
  assert.equal(sampleValue(families, "none_total"), 0);
  assert.equal(sampleValue(families, "h_seconds_bucket", { le: "+Inf" }), 0);
  assert.equal(sampleValue(families, "h_seconds_count"), 0);
  assert.equal(sampleValue(families, "level"), 1);
  stop();
  assert.equal(sampleValue(parsePrometheus(r.render()), "level"), 1);
});

Deno.test("MetricsRegistry refuses bad names, labels and buckets", async (t) => {
  const r = new MetricsRegistry();
  r.counter("taken_total", { help: "x" });
  const cases: [string, () => unknown, ErrorConstructor, RegExp][] = [
    ["bad name", () => r.counter("1abc", { help: "x" }), TypeError, /not a valid metric name/],
    ["dash", () => r.gauge("a-b", { help: "x" }), TypeError, /not a valid metric name/],
    ["duplicate", () => r.counter("taken_total", { help: "x" }), TypeError, /already registered/],
    [
      "reserved label",
      () => r.gauge("g1", { help: "x", labelNames: ["__x"] }),
      TypeError,
      /not a valid label name/,
    ],
    [
      "le on a histogram",
      () => r.histogram("h1", { help: "x", labelNames: ["le"] }),
      TypeError,
      /not a valid label name/,
    ],
    [
      "repeated label",
      () => r.gauge("g2", { help: "x", labelNames: ["a", "a"] }),
      TypeError,
      /repeat/,
    ],
    [
      "unsorted buckets",
      () => r.histogram("h2", { help: "x", buckets: [1, 0.5] }),
      RangeError,
      /strictly increasing/,
    ],
    [
      "infinite bucket",
      () => r.histogram("h3", { help: "x", buckets: [1, Infinity] }),
      RangeError,
      /finite/,
    ],
  ];
  for (const [name, fn, type, message] of cases) {
    await t.step(
      name,
      () =>
        assert.throws(fn, (e: unknown) => e instanceof type && message.test((e as Error).message)),
    );
  }
  const c = r.counter("c_total", { help: "x", labelNames: ["a"] });
  await t.step("unknown label", () => assert.throws(() => c.inc({ b: "1" }), TypeError));
  await t.step("negative increment", () => assert.throws(() => c.inc({}, -1), RangeError));
  await t.step("NaN increment", () => assert.throws(() => c.inc({}, NaN), RangeError));
});

Deno.test("formatValue() writes special floats as the text format expects", () => {
  assert.equal(formatValue(0), "0");
  assert.equal(formatValue(-2.25), "-2.25");
  assert.equal(formatValue(1e21), "1e+21");
  assert.equal(formatValue(-Infinity), "-Inf");
  assert.equal(formatValue(NaN), "NaN");
});

Deno.test("parsePrometheus() (the test's strict parser) rejects malformed expositions", async (t) => {
  const bad: [string, string][] = [
    ["no final newline", "# TYPE a gauge\na 1"],
    ["bad value", "# TYPE a gauge\na one\n"],
    ["bad label", '# TYPE a gauge\na{1x="y"} 1\n'],
    ["bad escape", '# TYPE a gauge\na{x="\\t"} 1\n'],
    ["type after samples", "a 1\n# TYPE a gauge\n"],
    ["split family", '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x="1"} 2\n'],
    ["duplicate sample", "# TYPE a gauge\na 1\na 2\n"],
    ["negative counter", "# TYPE a_total counter\na_total -1\n"],
    [
      "not cumulative",
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    ],
    ["no +Inf", '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    [
      "count mismatch",
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n',
    ],
    ["no sum", '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_count 1\n'],
  ];
  for (const [name, text] of bad) {
    await t.step(name, () => assert.throws(() => parsePrometheus(text), SyntaxError));
  }
});
