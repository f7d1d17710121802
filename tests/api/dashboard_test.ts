import assert from "node:assert/strict";
import { DASHBOARD_ASSETS, DASHBOARD_CSP } from "../../api/dashboard.ts";

const html = DASHBOARD_ASSETS["/"]!.body;
const js = DASHBOARD_ASSETS["/dashboard.js"]!.body;
const css = DASHBOARD_ASSETS["/dashboard.css"]!.body;

Deno.test("DASHBOARD_ASSETS: the script parses and every element it uses is in the page", () => {
  new Function(js); // throws SyntaxError if the script does not parse
  const ids = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!));
  const used = new Set(
    [...js.matchAll(/(?:\$|text|fillTable)\("([a-z-]+)"/g)].map((m) => m[1]!),
  );
  assert.ok(used.size > 20);
  for (const id of used) assert.ok(ids.has(id), `#${id} is used by the script but not in the page`);
});

Deno.test("DASHBOARD_ASSETS: no external resources (the page works offline) and a strict CSP", () => {
  for (const [path, asset] of Object.entries(DASHBOARD_ASSETS)) {
    const external = asset.body.match(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"')]*/gi) ?? [];
    assert.deepEqual(
      external.filter((url) => url !== "http://www.w3.org/2000/svg"),
      [],
      `${path} refers to another host`,
    );
  }
  assert.doesNotMatch(html, /<script>|<style>|\sstyle=|\son[a-z]+=/i, "no inline code or styles");
  assert.match(html, /<script src="\/dashboard.js" defer><\/script>/);
  assert.match(html, /<link rel="stylesheet" href="\/dashboard.css">/);
  assert.doesNotMatch(css, /@import|url\(/);
  assert.equal(DASHBOARD_ASSETS["/"]!.headers["content-security-policy"], DASHBOARD_CSP);
  assert.match(DASHBOARD_CSP, /default-src 'none'/);
  assert.match(DASHBOARD_CSP, /connect-src 'self'/);
});

Deno.test("DASHBOARD_ASSETS: untrusted text is never written as HTML", () => {
  assert.doesNotMatch(js, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
});
