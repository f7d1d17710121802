/**
 * The dashboard's files, embedded as strings so the single-file bundle serves them: a page at
 * `/`, its script and its stylesheet. Hand-written HTML, CSS and JavaScript with SVG charts; no
 * build step, no CDN, no external request (the page works offline).
 *
 * @module
 */
import { DASHBOARD_CSS } from "./_dashboard_css.ts";
import { DASHBOARD_HTML } from "./_dashboard_html.ts";
import { DASHBOARD_JS } from "./_dashboard_js.ts";

/** One embedded file. */
export interface DashboardAsset {
  /** The Content-Type header. */
  contentType: string;
  /** The file's text. */
  body: string;
  /** Extra response headers. */
  headers: Record<string, string>;
}

/** The page's Content-Security-Policy: only this origin's script, styles and API. */
export const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; " +
  "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; " +
  "frame-ancestors 'none'";

/**
 * The dashboard's files by URL path.
 *
 * @example Usage
 * ```ts
 * import { DASHBOARD_ASSETS } from "./dashboard.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(DASHBOARD_ASSETS["/"]!.body, /<script src="\/dashboard.js"/);
 * assert.equal(DASHBOARD_ASSETS["/dashboard.js"]!.contentType, "text/javascript; charset=utf-8");
 * ```
 */
export const DASHBOARD_ASSETS: Readonly<Record<string, DashboardAsset>> = {
  "/": {
    contentType: "text/html; charset=utf-8",
    body: DASHBOARD_HTML,
    headers: { "content-security-policy": DASHBOARD_CSP, "referrer-policy": "no-referrer" },
  },
  "/dashboard.js": {
    contentType: "text/javascript; charset=utf-8",
    body: DASHBOARD_JS,
    headers: {},
  },
  "/dashboard.css": {
    contentType: "text/css; charset=utf-8",
    body: DASHBOARD_CSS,
    headers: {},
  },
};
