/**
 * The dashboard's script (served at `/dashboard.js`): plain browser JavaScript, no build step
 * and no dependencies. It loads `/api/pool`, `/api/pool/hashrate`, `/api/blocks` and
 * `/api/payments`, listens to `/api/events` (server-sent events; polling when they fail), draws
 * the hash-rate charts as SVG, and looks miners up (`#miner=ADDRESS` in the URL). Untrusted
 * text (worker names, errors) is only ever set with `textContent`. The API shows no endpoint
 * addresses or error text (only the NodeCore state and fixed codes), so neither does the page.
 *
 * Hooks for tests: `body[data-updates]` counts pool updates; each chart's `data-points` and
 * `data-max` give its point count and highest hash rate.
 *
 * @module
 */

/** The script. */
export const DASHBOARD_JS = String.raw`"use strict";
(function () {
  var SVG = "http://www.w3.org/2000/svg";
  var UNITS = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s", "EH/s"];
  var ADDRESS = /^V[1-9A-HJ-NP-Za-km-z]{28}[0-9A-HJ-NP-Za-km-z]$/;
  var state = {
    blocksPage: 0, blockKey: undefined, blocksAt: 0, chartAt: 0, minerAt: 0, miner: null,
    range: 60, updates: 0, polling: null,
  };

  function $(id) { return document.getElementById(id); }
  function text(id, value) { var e = $(id); if (e) e.textContent = value; }
  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function hashrate(v) {
    if (!(v > 0)) return "0 H/s";
    var i = 0;
    while (v >= 1000 && i < UNITS.length - 1) { v /= 1000; i++; }
    return v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2) + " " + UNITS[i];
  }
  function si(value) {
    var v = Number(value);
    if (!isFinite(v)) return String(value);
    var u = ["", " k", " M", " G", " T", " P", " E"];
    var i = 0;
    while (v >= 1000 && i < u.length - 1) { v /= 1000; i++; }
    return (i === 0 ? String(Math.round(v)) : v.toFixed(2)) + u[i];
  }
  function vbk(atomic) {
    try {
      var n = BigInt(atomic);
      var whole = n / 100000000n;
      var frac = (n % 100000000n).toString().padStart(8, "0");
      return whole.toString() + "." + frac + " VBK";
    } catch (_) { return String(atomic); }
  }
  function ago(ms) {
    if (!ms) return "never";
    var s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    if (s < 86400) return Math.floor(s / 3600) + " h ago";
    return Math.floor(s / 86400) + " d ago";
  }
  function when(ms) { return new Date(ms).toLocaleString(); }
  function pct(x) { return x === null || x === undefined ? "–" : (x * 100).toFixed(1) + " %"; }
  function short(h) { return h.length > 22 ? h.slice(0, 10) + "…" + h.slice(-8) : h; }
  function status(msg) { text("status", msg); }
  function fail(err) { status("update failed: " + (err && err.message ? err.message : String(err))); }

  function getJson(path) {
    return fetch(path, { headers: { accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body && body.error ? body.error : "HTTP " + r.status);
        return body;
      });
    });
  }

  function cell(tr, value, cls, title) {
    var td = document.createElement("td");
    td.textContent = value;
    if (cls) td.className = cls;
    if (title) td.title = title;
    tr.appendChild(td);
    return td;
  }
  function badge(tr, word) {
    var td = document.createElement("td");
    var span = document.createElement("span");
    span.className = "status " + word;
    span.textContent = word;
    td.appendChild(span);
    tr.appendChild(td);
  }
  function fillTable(id, rows, columns, render) {
    var body = $(id).tBodies[0];
    body.textContent = "";
    if (rows.length === 0) {
      var tr = document.createElement("tr");
      tr.className = "empty";
      var td = document.createElement("td");
      td.colSpan = columns;
      td.textContent = "none yet";
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      render(tr, row);
      body.appendChild(tr);
    });
  }

  function node(name, attrs, parent) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (parent) parent.appendChild(e);
    return e;
  }
  function drawChart(svg, points) {
    var W = Math.max(200, Math.round(svg.clientWidth || 800));
    var H = Math.max(100, Math.round(svg.clientHeight || 200));
    var L = 72, R = 12, T = 10, B = 22;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.textContent = "";
    var max = 0;
    points.forEach(function (p) { if (p.hashrate > max) max = p.hashrate; });
    svg.setAttribute("data-points", String(points.length));
    svg.setAttribute("data-max", String(max));
    if (points.length === 0) return;
    var top = max > 0 ? max * 1.15 : 1;
    var t0 = points[0].time, t1 = points[points.length - 1].time;
    if (t1 <= t0) t1 = t0 + 60000;
    function x(t) { return L + ((t - t0) / (t1 - t0)) * (W - L - R); }
    function y(v) { return T + (1 - v / top) * (H - T - B); }
    for (var i = 0; i <= 4; i++) {
      var v = (top * i) / 4, yy = y(v);
      node("line", { x1: L, x2: W - R, y1: yy, y2: yy, "class": "grid" }, svg);
      node("text", { x: L - 6, y: yy + 4, "text-anchor": "end", "class": "axis" }, svg)
        .textContent = max > 0 ? hashrate(v) : "";
    }
    for (var j = 0; j <= 4; j++) {
      var tt = t0 + ((t1 - t0) * j) / 4, d = new Date(tt);
      node("text", {
        x: x(tt), y: H - 5, "text-anchor": j === 0 ? "start" : j === 4 ? "end" : "middle",
        "class": "axis",
      }, svg).textContent = pad(d.getHours()) + ":" + pad(d.getMinutes());
    }
    if (max <= 0) {
      node("text", { x: W / 2, y: H / 2, "text-anchor": "middle", "class": "empty" }, svg)
        .textContent = "no shares in this range yet";
      return;
    }
    var line = "";
    points.forEach(function (p, k) {
      line += (k ? "L" : "M") + x(p.time).toFixed(1) + " " + y(p.hashrate).toFixed(1);
    });
    var base = y(0).toFixed(1);
    node("path", {
      d: line + "L" + x(t1).toFixed(1) + " " + base + "L" + x(t0).toFixed(1) + " " + base + "Z",
      "class": "area",
    }, svg);
    node("path", { d: line, "class": "line" }, svg);
  }

  function renderPool(p) {
    text("pool-hashrate", hashrate(p.hashrate));
    text("pool-window", "average over " + Math.round(p.hashrateWindowSeconds) + " s");
    text("miners", String(p.miners));
    text("workers", p.workers + " workers, " + p.connections + " connections");
    text("shares-rate", p.sharesPerSecond.toFixed(2));
    text("shares-counts", p.sharesAccepted + " accepted, " + p.sharesRejected + " rejected");
    text("network-difficulty", p.network.difficulty === null ? "–" : si(p.network.difficulty));
    text("network-height", p.network.height === null ? "no job yet" : "height " + p.network.height);
    text("round-effort", pct(p.roundEffort));
    text("last-block", p.lastBlock
      ? "last block " + p.lastBlock.height + ", " + ago(p.lastBlock.time)
      : "no block found yet");
    var up = $("upstream");
    var u = p.upstream;
    up.textContent = u.connected
      ? "NodeCore ready since " + new Date(u.since).toLocaleTimeString()
      : "NodeCore " + u.state + " since " + new Date(u.since).toLocaleTimeString();
    up.className = "pill " + (u.connected ? "good" : "bad");
    var now = Date.now();
    var key = p.lastBlock ? p.lastBlock.hash + p.lastBlock.status + p.lastBlock.confirmations : null;
    if (key !== state.blockKey || now - state.blocksAt > 30000) {
      state.blockKey = key;
      loadBlocks();
      loadPayments();
    }
    if (now - state.chartAt > 10000) loadChart();
    if (state.miner && now - state.minerAt > 10000) loadMiner(state.miner);
    state.updates++;
    document.body.setAttribute("data-updates", String(state.updates));
    status("updated " + new Date(now).toLocaleTimeString());
  }

  function loadPool() { return getJson("/api/pool").then(renderPool).catch(fail); }

  function loadChart() {
    state.chartAt = Date.now();
    return getJson("/api/pool/hashrate?minutes=" + state.range).then(function (r) {
      drawChart($("pool-chart"), r.points);
    }).catch(fail);
  }

  function loadBlocks() {
    state.blocksAt = Date.now();
    return getJson("/api/blocks?pageSize=10&page=" + state.blocksPage).then(function (page) {
      fillTable("blocks", page.blocks, 7, function (tr, b) {
        cell(tr, String(b.height));
        cell(tr, short(b.hash), "hash", b.hash);
        var td = cell(tr, "");
        var a = document.createElement("a");
        a.href = "#miner=" + encodeURIComponent(b.finder);
        a.textContent = short(b.finder) + (b.worker ? "." + b.worker : "");
        a.title = b.finder;
        td.appendChild(a);
        badge(tr, b.status);
        if (b.solo) {
          var solo = document.createElement("span");
          solo.className = "status solo";
          solo.textContent = "solo";
          solo.title = "found on a SOLO port: credited to its finder alone";
          tr.lastChild.appendChild(document.createTextNode(" "));
          tr.lastChild.appendChild(solo);
        }
        if (b.note) tr.lastChild.title = b.note;
        cell(tr, String(b.confirmations));
        cell(tr, pct(b.effort));
        cell(tr, ago(b.time), "", when(b.time));
      });
      $("blocks-prev").disabled = state.blocksPage === 0;
      $("blocks-next").disabled = !page.hasMore;
      text("blocks-page", String(state.blocksPage + 1));
    }).catch(fail);
  }

  function loadPayments() {
    return getJson("/api/payments?pageSize=10").then(function (page) {
      fillTable("payments", page.payments, 6, function (tr, p) {
        cell(tr, p.id);
        badge(tr, p.status);
        cell(tr, vbk(p.total));
        cell(tr, String(p.recipients));
        cell(tr, p.txIds.length ? short(p.txIds[0]) : "–", "hash", p.txIds.join(" "));
        cell(tr, ago(p.createdAt), "", when(p.createdAt));
      });
    }).catch(fail);
  }

  function showLookupError(message) {
    $("miner").hidden = true;
    var e = $("lookup-error");
    e.textContent = message;
    e.hidden = false;
  }

  function renderMiner(m, history) {
    $("lookup-error").hidden = true;
    $("miner").hidden = false;
    $("miner").setAttribute("data-address", m.address);
    text("miner-hashrate", hashrate(m.hashrate));
    var online = m.workers.filter(function (w) { return w.online; }).length;
    text("miner-online", online + " / " + m.workers.length);
    text("miner-shares", m.shares.lastHour.accepted + " / " + m.shares.last24Hours.accepted);
    text("miner-balance", vbk(m.balance));
    drawChart($("miner-chart"), history.points);
    fillTable("miner-workers", m.workers, 8, function (tr, w) {
      cell(tr, w.name === "" ? "(default)" : w.name, "", w.worker);
      badge(tr, w.online ? "online" : "offline");
      cell(tr, w.difficulty === null ? "–" : si(w.difficulty));
      cell(tr, hashrate(w.hashrate));
      cell(tr, String(w.sharesAccepted));
      cell(tr, String(w.sharesRejected));
      cell(tr, String(w.shares24h));
      cell(tr, w.lastShareAt ? ago(w.lastShareAt) : "–");
    });
    fillTable("miner-payments", m.payments, 5, function (tr, p) {
      cell(tr, p.id);
      badge(tr, p.status);
      cell(tr, vbk(p.amount || "0"));
      cell(tr, p.txIds.length ? short(p.txIds[0]) : "–", "hash", p.txIds.join(" "));
      cell(tr, ago(p.createdAt), "", when(p.createdAt));
    });
  }

  function loadMiner(address) {
    state.minerAt = Date.now();
    var base = "/api/miners/" + encodeURIComponent(address);
    return Promise.all([getJson(base), getJson(base + "/hashrate?minutes=" + state.range)])
      .then(function (r) {
        if (state.miner === address) renderMiner(r[0], r[1]);
      }).catch(function (err) { showLookupError(err.message); });
  }

  function lookup(address) {
    address = address.trim();
    $("lookup-input").value = address;
    if (!ADDRESS.test(address)) {
      state.miner = null;
      showLookupError("\"" + address.slice(0, 40) + "\" is not a VeriBlock address (30 characters starting with V)");
      return;
    }
    state.miner = address;
    loadMiner(address);
  }

  function fromHash() {
    var m = /^#miner=(.*)$/.exec(location.hash);
    if (m) lookup(decodeURIComponent(m[1]));
  }

  function startPolling() {
    if (state.polling) return;
    text("live", "polling");
    state.polling = setInterval(loadPool, 10000);
  }

  function connect() {
    if (!window.EventSource) { startPolling(); return; }
    var es = new EventSource("/api/events");
    es.addEventListener("open", function () {
      var live = $("live");
      live.textContent = "live";
      live.className = "pill good";
    });
    es.addEventListener("pool", function (ev) {
      try { renderPool(JSON.parse(ev.data)); } catch (err) { fail(err); }
    });
    es.addEventListener("block", function () { setTimeout(loadBlocks, 1000); });
    es.addEventListener("error", function () {
      var live = $("live");
      live.textContent = "reconnecting";
      live.className = "pill bad";
      if (es.readyState === 2) startPolling();
    });
  }

  function start() {
    $("lookup-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var address = $("lookup-input").value.trim();
      if (location.hash === "#miner=" + encodeURIComponent(address)) lookup(address);
      else location.hash = "miner=" + encodeURIComponent(address);
    });
    window.addEventListener("hashchange", fromHash);
    $("pool-range").addEventListener("change", function () {
      state.range = Number($("pool-range").value);
      loadChart();
      if (state.miner) loadMiner(state.miner);
    });
    $("blocks-prev").addEventListener("click", function () {
      if (state.blocksPage > 0) { state.blocksPage--; loadBlocks(); }
    });
    $("blocks-next").addEventListener("click", function () { state.blocksPage++; loadBlocks(); });
    window.addEventListener("resize", function () { state.chartAt = 0; loadChart(); });
    loadPool().then(connect);
    fromHash();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
`;
