/**
 * The dashboard's stylesheet (served at `/dashboard.css`).
 *
 * @module
 */

/** The stylesheet. */
export const DASHBOARD_CSS = `:root {
  --bg: #0f1419; --panel: #172028; --line: #263340; --text: #e6edf3; --muted: #8b9aa8;
  --accent: #3fb6a8; --accent-fill: rgba(63, 182, 168, 0.18); --warn: #e3b341; --bad: #f47067;
  --good: #57ab5a;
  color-scheme: dark;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
header {
  display: flex; align-items: center; gap: 12px; padding: 14px 24px;
  border-bottom: 1px solid var(--line);
}
h1 { font-size: 20px; margin: 0 auto 0 0; letter-spacing: 0.5px; }
h2 { font-size: 13px; font-weight: 600; color: var(--muted); margin: 0 0 6px; text-transform: uppercase; }
h3 { font-size: 14px; margin: 18px 0 8px; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px; }
footer { text-align: center; padding: 16px; }
a { color: var(--accent); }
.pill { padding: 3px 10px; border-radius: 999px; border: 1px solid var(--line); font-size: 12px; }
.pill.good { border-color: var(--good); color: var(--good); }
.pill.bad { border-color: var(--bad); color: var(--bad); }
.muted { color: var(--muted); }
.small { font-size: 12px; margin: 2px 0 0; }
.error { color: var(--bad); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 12px; margin-bottom: 16px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.big { font-size: 24px; font-weight: 600; margin: 0; font-variant-numeric: tabular-nums; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px; margin-bottom: 16px; }
.panel-head { display: flex; align-items: center; justify-content: space-between; gap: 12px; flex-wrap: wrap; margin-bottom: 8px; }
.panel-head h2 { margin: 0; }
.chart { width: 100%; height: 220px; display: block; }
#miner-chart { height: 180px; margin-bottom: 12px; }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.chart .axis { fill: var(--muted); font-size: 11px; }
.chart .line { fill: none; stroke: var(--accent); stroke-width: 2; vector-effect: non-scaling-stroke; }
.chart .area { fill: var(--accent-fill); stroke: none; }
.chart .empty { fill: var(--muted); font-size: 14px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
td.hash { font-family: ui-monospace, Menlo, Consolas, monospace; }
tbody tr.empty td { color: var(--muted); text-align: center; }
.status { padding: 1px 8px; border-radius: 999px; font-size: 12px; border: 1px solid var(--line); }
.status.pending, .status.sent { color: var(--warn); border-color: var(--warn); }
.status.confirmed, .status.online { color: var(--good); border-color: var(--good); }
.status.orphaned, .status.failed, .status.offline { color: var(--bad); border-color: var(--bad); }
form { display: flex; gap: 8px; }
input, select, button {
  background: var(--bg); color: var(--text); border: 1px solid var(--line); border-radius: 6px;
  padding: 6px 10px; font: inherit;
}
input { width: 330px; max-width: 60vw; font-family: ui-monospace, Menlo, Consolas, monospace; }
button { cursor: pointer; }
button:disabled { opacity: 0.4; cursor: default; }
.pager { display: flex; align-items: center; gap: 8px; }
@media (max-width: 700px) { th:nth-child(n+6), td:nth-child(n+6) { display: none; } }
`;
