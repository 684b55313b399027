// rosey-dashboard page: polls the app's own JSON API (never the upstreams) and
// renders each panel on its own, so one unreachable upstream blanks one panel only.
"use strict";

(() => {
  const REFRESH_MS = Math.max(2, Number(document.body.dataset.refreshSeconds) || 15) * 1000;
  const CHARTS = ["users", "requests_per_minute", "errors_per_minute"];
  const charts = {};
  const state = { refreshes: 0, renderedAt: null, lastRefresh: null };
  window.roseyDashboard = { charts, state };

  const $ = (sel, root = document) => root.querySelector(sel);

  function text(el, value) {
    el.textContent = value === null || value === undefined || value === "" ? "—" : String(value);
  }

  function cell(row, value, cls) {
    const td = row.insertCell();
    text(td, value);
    if (cls) td.className = cls;
    return td;
  }

  function formatUptime(seconds) {
    if (typeof seconds !== "number" || !isFinite(seconds)) return "—";
    let s = Math.floor(seconds);
    const d = Math.floor(s / 86400); s %= 86400;
    const h = Math.floor(s / 3600); s %= 3600;
    const m = Math.floor(s / 60); s %= 60;
    if (d) return `${d}d ${h}h ${m}m`;
    if (h) return `${h}h ${m}m`;
    if (m) return `${m}m ${s}s`;
    return `${s}s`;
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
  }

  // A panel's banner shows its upstream's error; data-state lets tests and scripts see it too.
  function panel(id, ok, error) {
    const section = document.getElementById(id);
    section.dataset.state = ok ? "ok" : "error";
    const banner = document.getElementById(`${id}-error`);
    banner.hidden = ok;
    banner.textContent = ok ? "" : error;
  }

  async function getJSON(path) {
    try {
      const resp = await fetch(path, { cache: "no-store" });
      if (!resp.ok) return { ok: false, error: `dashboard server answered HTTP ${resp.status} for ${path}` };
      return await resp.json();
    } catch (err) {
      return { ok: false, error: "dashboard server unreachable" };
    }
  }

  function card(name, value, cls) {
    const el = document.getElementById(`card-${name}`);
    text($(".value", el), value);
    el.classList.remove("ok", "bad", "warn");
    if (cls) el.classList.add(cls);
  }

  function renderStatus(r) {
    panel("status", r.ok, r.error);
    if (!r.ok) {
      card("online", "unreachable", "bad");
      for (const name of ["channel", "uptime", "users", "version"]) card(name, null);
      return false;
    }
    const h = r.data;
    const online = h.connected ? (h.status === "degraded" ? "degraded" : "online") : "offline";
    card("online", online, { online: "ok", degraded: "warn", offline: "bad" }[online]);
    card("channel", h.channel);
    card("uptime", formatUptime(h.uptime_seconds));
    card("users", h.user_count);
    card("version", h.version);
    return true;
  }

  function chartFor(name) {
    if (charts[name] || typeof Chart === "undefined") return charts[name];
    const canvas = $(`#chart-${name} canvas`);
    charts[name] = new Chart(canvas, {
      type: "line",
      data: { datasets: [{ data: [], borderColor: "#0969da", backgroundColor: "rgba(9,105,218,.12)", fill: true, borderWidth: 2,
        // A fresh Prometheus has only a few points at the right edge: draw them as dots.
        pointRadius: (ctx) => (ctx.dataset.data.length < 40 ? 3 : 0) }] },
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: false }, tooltip: { intersect: false, mode: "index" } },
        scales: {
          x: { type: "linear", ticks: { callback: (v) => clock(v), stepSize: 600000, includeBounds: false, maxTicksLimit: 8 } },
          y: { beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });
    return charts[name];
  }

  function renderCharts(r) {
    const lib = typeof Chart !== "undefined";
    const ok = r.ok && lib;
    panel("charts", ok, r.ok ? "Chart.js is missing: install Debian's libjs-chart.js" : r.error);
    let points = 0;
    for (const name of CHARTS) {
      const fig = document.getElementById(`chart-${name}`);
      const empty = $(".empty", fig);
      fig.classList.toggle("unavailable", !ok);
      if (!ok) {
        fig.dataset.points = "0";
        empty.hidden = false;
        empty.textContent = r.ok ? "Chart.js missing" : "Prometheus unreachable";
        continue;
      }
      const data = (r.data.series[name] || []).map(([t, v]) => ({ x: t * 1000, y: v }));
      const chart = chartFor(name);
      chart.options.scales.x.min = r.data.start * 1000;
      chart.options.scales.x.max = r.data.end * 1000;
      chart.data.datasets[0].data = data;
      chart.update("none");
      fig.dataset.points = String(data.length);
      empty.hidden = data.length > 0;
      empty.textContent = "no data yet";
      points += data.length;
    }
    return ok && points > 0;
  }

  function renderAlerts(r) {
    panel("alerts", r.ok, r.error);
    const table = $("#alerts-table");
    const body = $("tbody", table);
    body.replaceChildren();
    const alerts = r.ok ? r.data : [];
    for (const a of alerts) {
      const row = body.insertRow();
      cell(row, a.name);
      cell(row, a.severity, `sev-${a.severity}`);
      cell(row, [a.instance, a.env].filter(Boolean).join(" · "));
      cell(row, a.starts_at ? new Date(a.starts_at).toLocaleString() : "");
      cell(row, a.summary || a.description);
    }
    table.hidden = alerts.length === 0;
    $("#alerts-none").hidden = !r.ok || alerts.length > 0;
    return r.ok;
  }

  function renderDeployments(r) {
    panel("deployments", r.ok, r.error);
    const table = $("#deployments-table");
    const body = $("tbody", table);
    body.replaceChildren();
    const current = $("#deployments-current");
    if (!r.ok) {
      table.hidden = true;
      current.textContent = "";
      return false;
    }
    const d = r.data;
    current.textContent = d.installed_version
      ? `Installed: rosey-bot ${d.installed_version}`
      : d.status ? `rosey-bot is ${d.status}` : "No rosey-bot entries in dpkg's log.";
    for (const e of d.events) {
      const row = body.insertRow();
      cell(row, e.time);
      cell(row, e.action, `act-${e.action}`);
      cell(row, e.from_version);
      cell(row, e.to_version);
      cell(row, e.completed ? "done" : "not completed", e.completed ? "" : "failed");
    }
    table.hidden = d.events.length === 0;
    return true;
  }

  async function refresh() {
    const [status, chartData, alerts, deployments] = await Promise.all(
      ["/api/status", "/api/charts", "/api/alerts", "/api/deployments"].map(getJSON),
    );
    const done = [renderStatus(status), renderCharts(chartData), renderAlerts(alerts), renderDeployments(deployments)];
    state.refreshes += 1;
    state.lastRefresh = Date.now();
    // First refresh with every panel filled: the figure benchmarks/bench_dashboard.py reports.
    if (state.renderedAt === null && done.every(Boolean)) {
      state.renderedAt = performance.now();
      document.body.dataset.rendered = "true";
    }
    document.body.dataset.refreshes = String(state.refreshes);
    $("#updated").textContent = `updated ${new Date(state.lastRefresh).toLocaleTimeString()} · every ${REFRESH_MS / 1000}s`;
  }

  async function loop() {
    try {
      await refresh();
    } finally {
      setTimeout(loop, REFRESH_MS);
    }
  }

  loop();
})();
