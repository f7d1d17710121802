/**
 * The dashboard's HTML page (served at `/`). Scripts and styles are separate files so the
 * page's Content-Security-Policy can forbid inline code; no external resources (works offline).
 *
 * @module
 */

/** The page. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vbkpool</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard.css">
<script src="/dashboard.js" defer></script>
</head>
<body>
<header>
  <h1>vbkpool</h1>
  <span id="upstream" class="pill">connecting…</span>
  <span id="live" class="pill muted" title="Live updates">offline</span>
</header>
<main>
  <section class="cards" aria-label="Pool">
    <div class="card"><h2>Pool hash rate</h2><p id="pool-hashrate" class="big">–</p><p id="pool-window" class="muted small"></p></div>
    <div class="card"><h2>Miners online</h2><p id="miners" class="big">–</p><p id="workers" class="muted small"></p></div>
    <div class="card"><h2>Shares per second</h2><p id="shares-rate" class="big">–</p><p id="shares-counts" class="muted small"></p></div>
    <div class="card"><h2>Network difficulty</h2><p id="network-difficulty" class="big">–</p><p id="network-height" class="muted small"></p></div>
    <div class="card"><h2>Round effort</h2><p id="round-effort" class="big">–</p><p id="last-block" class="muted small"></p></div>
  </section>
  <section class="panel">
    <div class="panel-head">
      <h2>Pool hash rate</h2>
      <select id="pool-range" aria-label="Range">
        <option value="60">1 hour</option>
        <option value="360">6 hours</option>
        <option value="1440">24 hours</option>
      </select>
    </div>
    <svg id="pool-chart" class="chart" viewBox="0 0 800 220" preserveAspectRatio="none" role="img" aria-label="Pool hash rate chart"></svg>
  </section>
  <section class="panel">
    <div class="panel-head">
      <h2>Miner lookup</h2>
      <form id="lookup-form" autocomplete="off">
        <input id="lookup-input" name="address" placeholder="VeriBlock address (V…)" maxlength="30" spellcheck="false">
        <button type="submit">Look up</button>
      </form>
    </div>
    <p id="lookup-error" class="error" hidden></p>
    <div id="miner" hidden>
      <div class="cards">
        <div class="card"><h2>Hash rate</h2><p id="miner-hashrate" class="big">–</p></div>
        <div class="card"><h2>Workers online</h2><p id="miner-online" class="big">–</p></div>
        <div class="card"><h2>Shares (1 h / 24 h)</h2><p id="miner-shares" class="big">–</p></div>
        <div class="card"><h2>Balance</h2><p id="miner-balance" class="big">–</p><p class="muted small">owed, not yet paid</p></div>
      </div>
      <svg id="miner-chart" class="chart" viewBox="0 0 800 180" preserveAspectRatio="none" role="img" aria-label="Miner hash rate chart"></svg>
      <table id="miner-workers">
        <thead><tr><th>Worker</th><th>Status</th><th>Difficulty</th><th>Hash rate</th><th>Accepted</th><th>Rejected</th><th>24 h</th><th>Last share</th></tr></thead>
        <tbody></tbody>
      </table>
      <h3>Recent payments</h3>
      <table id="miner-payments">
        <thead><tr><th>Id</th><th>Status</th><th>Amount</th><th>Transaction</th><th>Time</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
  <section class="panel">
    <div class="panel-head">
      <h2>Blocks</h2>
      <div class="pager"><button id="blocks-prev" type="button" disabled>‹</button><span id="blocks-page">1</span><button id="blocks-next" type="button" disabled>›</button></div>
    </div>
    <table id="blocks">
      <thead><tr><th>Height</th><th>Hash</th><th>Finder</th><th>Status</th><th>Confirmations</th><th>Effort</th><th>Time</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section class="panel">
    <div class="panel-head"><h2>Payments</h2></div>
    <table id="payments">
      <thead><tr><th>Id</th><th>Status</th><th>Total</th><th>Recipients</th><th>Transaction</th><th>Time</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
<footer><span id="status" class="muted small"></span> · <a href="/api">API</a> · <a href="/metrics">metrics</a></footer>
</body>
</html>
`;
