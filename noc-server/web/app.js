// The browser NOC screen: one WebSocket to /ws/alerts on the page's own
// origin, a snapshot and then live events, drawn as one list.
//
// Plain JavaScript with no build step, so that an operator can edit it and
// rebuild noc-server (which embeds it). The contract is the "WebSocket" and
// "browser screen" sections of the protocol; docs/browser.md explains the
// screen.
//
// One rule above all: alert text comes from monitoring systems and is
// hostile input. It only ever reaches the page through textContent (and
// plain DOM properties such as title); never through innerHTML or any
// other HTML parser.

"use strict";

(() => {
  /** Most to least severe, as the server orders them. */
  const SEVERITIES = ["critical", "high", "average", "warning", "info"];
  const RANK = new Map(SEVERITIES.map((s, i) => [s, i]));
  const LABEL = {
    critical: "CRITICAL",
    high: "HIGH",
    average: "AVERAGE",
    warning: "WARNING",
    info: "INFO",
  };

  /** The server's heartbeat until its first snapshot says otherwise. */
  const DEFAULT_HEARTBEAT_MS = 30000;
  /** A link silent for this many heartbeats is dead (the protocol's rule). */
  const SILENT_HEARTBEATS = 3;
  /** How long an attempt may take to bring its first message. */
  const CONNECT_TIMEOUT_MS = 10000;
  /** Backoff between attempts: 0.5–1 s, 1–2 s, … up to 15–30 s. */
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 30000;
  /** A link up this long has proved itself: the next failure starts over. */
  const STABLE_LINK_MS = 10000;
  /** How long a new critical alert stands out. */
  const FRESH_MS = 10000;
  const PULSE_MS = 600;
  /** Events arriving together are drawn together, at most this late. */
  const RENDER_DELAY_MS = 50;
  /** Rows shrink to this fraction of their size before any is left off. */
  const MIN_ROW_SCALE = 0.7;
  /** No wall shows more rows than this; the rest are only counted. */
  const MAX_ROWS = 200;
  /** Ages ("12m") are redrawn this often even when nothing arrives. */
  const AGE_REFRESH_MS = 10000;

  const $ = (id) => document.getElementById(id);
  const el = {
    body: document.body,
    scope: $("scope"),
    linkText: $("link-text"),
    clockTime: $("clock-time"),
    clockDate: $("clock-date"),
    banner: $("banner"),
    listTitle: $("list-title"),
    staleNote: $("stale-note"),
    list: $("alerts"),
    empty: $("empty"),
    more: $("more"),
    counts: Object.fromEntries(
      [...SEVERITIES, "total", "acked"].map((k) => [k, $("count-" + k)]),
    ),
  };

  const query = new URLSearchParams(location.search);

  const state = {
    /** id → alert, the active alerts that match this screen's filter. */
    alerts: new Map(),
    /** The last event this screen has: events at or below it are old news. */
    lastSeq: 0,
    /** Lower-cased site names, or null for every site. */
    sites: null,
    siteNames: null,
    minSeverity: "info",
    heartbeatMs: DEFAULT_HEARTBEAT_MS,
    truncated: false,
    /** id → time until which the alert stands out. */
    fresh: new Map(),
    /** "connecting" (never connected yet), "live", or "down". */
    link: "connecting",
    haveData: false,
    lastDataAt: null,
    liveSince: null,
    failures: 0,
    retryAt: null,
  };

  // ---- the connection ----------------------------------------------------

  /** The socket in use; a replaced or abandoned one is ignored. */
  let socket = null;
  let watchdog = null;
  let retryTimer = null;

  /** `ws(s)://<this origin>/ws/alerts` with the page's own filter and token. */
  function socketUrl() {
    // Relative, so that the screen also works behind a proxy under a prefix.
    const url = new URL("ws/alerts", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.search = "";
    url.hash = "";
    for (const key of ["sites", "min_severity", "client", "token"]) {
      const value = query.get(key);
      if (value !== null && value !== "") {
        url.searchParams.set(key, value);
      }
    }
    return url.href;
  }

  function connect() {
    clearTimeout(retryTimer);
    state.retryAt = null;
    let ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch (err) {
      console.error("cannot open the alert stream:", err);
      linkDown();
      return;
    }
    socket = ws;
    armWatchdog(CONNECT_TIMEOUT_MS);
    ws.onmessage = (event) => {
      if (ws !== socket) return;
      // Anything at all proves the link alive, heartbeats included.
      armWatchdog(state.heartbeatMs * SILENT_HEARTBEATS);
      onMessage(event.data);
    };
    ws.onclose = (event) => {
      if (ws !== socket) return;
      console.info(`alert stream closed (${event.code} ${event.reason})`);
      socket = null;
      linkDown();
    };
    // An error is always followed by close, which does the work.
    ws.onerror = () => {};
  }

  /** (Re)starts the dead-link timer: silence past `ms` drops the link. */
  function armWatchdog(ms) {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      const dead = socket;
      if (!dead) return;
      console.warn(`no word from the server for ${ms} ms; reconnecting`);
      // Abandon it first: a dead peer may never complete the close, and
      // its late close event must not count as a second failure.
      socket = null;
      dead.close();
      linkDown();
    }, ms);
  }

  function linkDown() {
    clearTimeout(watchdog);
    if (state.liveSince !== null && Date.now() - state.liveSince >= STABLE_LINK_MS) {
      state.failures = 0;
    }
    state.liveSince = null;
    state.link = "down";
    const delay = nextDelay();
    state.retryAt = Date.now() + delay;
    retryTimer = setTimeout(connect, delay);
    drawLink();
  }

  /** Exponential backoff with jitter, so that a wall of screens does not
   *  reconnect in lockstep after a server restart. */
  function nextDelay() {
    const factor = 2 ** Math.min(state.failures + 1, 20);
    const high = Math.min(BACKOFF_MIN_MS * factor, BACKOFF_MAX_MS);
    const low = Math.min(Math.max(high / 2, BACKOFF_MIN_MS), high);
    state.failures += 1;
    return low + Math.random() * (high - low);
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
    }
  }

  // ---- the protocol ------------------------------------------------------

  function onMessage(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      console.warn("ignoring a frame that is not JSON");
      return;
    }
    if (message === null || typeof message !== "object") return;
    switch (message.event) {
      case "snapshot":
        applySnapshot(message);
        break;
      case "heartbeat":
        send({ event: "pong", ts: message.ts });
        break;
      case "alert.created":
      case "alert.updated":
      case "alert.resolved":
      case "alert.acknowledged":
        applyEvent(message);
        break;
      case "error":
        console.warn("the server could not use a message:", message.message);
        break;
      default:
        // A newer server may say more; an older screen ignores it.
        break;
    }
  }

  /** Replaces the whole picture, whatever the snapshot's reason. */
  function applySnapshot(snapshot) {
    state.alerts = new Map();
    for (const alert of Array.isArray(snapshot.alerts) ? snapshot.alerts : []) {
      if (isAlert(alert) && alert.status !== "resolved") {
        state.alerts.set(alert.id, alert);
      }
    }
    for (const id of state.fresh.keys()) {
      if (!state.alerts.has(id)) state.fresh.delete(id);
    }
    state.lastSeq = Number(snapshot.seq) || 0;
    state.siteNames = Array.isArray(snapshot.sites) ? snapshot.sites.map(String) : null;
    state.sites = state.siteNames ? new Set(state.siteNames.map((s) => s.toLowerCase())) : null;
    state.minSeverity = RANK.has(snapshot.min_severity) ? snapshot.min_severity : "info";
    const heartbeat = Number(snapshot.heartbeat_ms);
    state.heartbeatMs = heartbeat > 0 ? heartbeat : DEFAULT_HEARTBEAT_MS;
    state.truncated = snapshot.truncated === true;
    state.haveData = true;
    state.lastDataAt = new Date();
    state.link = "live";
    state.liveSince = Date.now();
    armWatchdog(state.heartbeatMs * SILENT_HEARTBEATS);
    drawLink();
    render();
  }

  function applyEvent(event) {
    const seq = Number(event.seq);
    // Already in the snapshot, or already applied.
    if (!Number.isFinite(seq) || seq <= state.lastSeq) return;
    state.lastSeq = seq;
    if (!isAlert(event)) return;
    const { event: kind, seq: _seq, ...alert } = event;
    const before = state.alerts.get(alert.id);
    // The server sends an event when the alert matched this screen before
    // or after the change, so one that no longer matches must leave.
    if (kind === "alert.resolved" || alert.status === "resolved" || !wanted(alert)) {
      state.alerts.delete(alert.id);
      state.fresh.delete(alert.id);
    } else {
      state.alerts.set(alert.id, alert);
      const newlyCritical =
        alert.severity === "critical" &&
        (kind === "alert.created" || !before || before.severity !== "critical");
      if (newlyCritical) state.fresh.set(alert.id, Date.now() + FRESH_MS);
    }
    state.lastDataAt = new Date();
    scheduleRender();
  }

  function isAlert(a) {
    return a !== null && typeof a === "object" && typeof a.id === "string";
  }

  /** This screen's filter, as the snapshot stated it. */
  function wanted(alert) {
    const siteOk = state.sites === null || state.sites.has(String(alert.site).toLowerCase());
    return siteOk && rank(alert.severity) <= RANK.get(state.minSeverity);
  }

  function rank(severity) {
    return RANK.has(severity) ? RANK.get(severity) : RANK.get("info");
  }

  /** Most severe first, then newest, then by id: the terminal's order. */
  function displayOrder(a, b) {
    return (
      rank(a.severity) - rank(b.severity) ||
      compare(String(b.created_at), String(a.created_at)) ||
      compare(a.id, b.id)
    );
  }

  function compare(x, y) {
    return x < y ? -1 : x > y ? 1 : 0;
  }

  // ---- drawing -----------------------------------------------------------

  let renderTimer = null;

  function scheduleRender() {
    if (renderTimer === null) {
      renderTimer = setTimeout(render, RENDER_DELAY_MS);
    }
  }

  function render() {
    clearTimeout(renderTimer);
    renderTimer = null;
    const now = Date.now();
    for (const [id, until] of state.fresh) {
      if (until <= now) state.fresh.delete(id);
    }
    const alerts = [...state.alerts.values()].sort(displayOrder);
    drawCounts(alerts);
    drawScope();
    drawList(alerts, now);
  }

  function drawCounts(alerts) {
    const counts = { total: alerts.length, acked: 0 };
    for (const s of SEVERITIES) counts[s] = 0;
    for (const a of alerts) {
      counts[SEVERITIES[rank(a.severity)]] += 1;
      if (a.acked_at) counts.acked += 1;
    }
    for (const [key, node] of Object.entries(el.counts)) {
      node.textContent = String(counts[key]);
      node.parentElement.classList.toggle("nonzero", counts[key] > 0);
    }
    document.title =
      counts.critical > 0 ? `(${counts.critical} critical) NOC alerts` : "NOC alerts";
  }

  function drawScope() {
    const names = state.haveData ? state.siteNames : listParam("sites");
    const sites = names && names.length > 0 ? `Sites: ${names.join(", ")}` : "All sites";
    const min = state.haveData ? state.minSeverity : query.get("min_severity") || "info";
    const parts = [sites, min === "info" ? "every severity" : `${min} and above`];
    const client = query.get("client");
    if (client) parts.push(`screen ${client}`);
    el.scope.textContent = parts.join(" · ");
    el.scope.title = el.scope.textContent;
  }

  function listParam(key) {
    const value = query.get(key);
    if (!value) return null;
    const list = value.split(",").map((s) => s.trim()).filter((s) => s && s !== "*");
    return list.length > 0 ? list : null;
  }

  function drawList(alerts, now) {
    const list = el.list;
    const rows = alerts.slice(0, MAX_ROWS).map((a) => alertRow(a, now));
    list.style.setProperty("--row-scale", "1");
    el.more.hidden = true;
    list.replaceChildren(...rows);
    el.empty.hidden = alerts.length > 0 || !state.haveData;
    el.listTitle.textContent = state.truncated
      ? "Active alerts — the server sent the first 1000 only"
      : "Active alerts";

    // A wall screen never scrolls: shrink the rows just enough, then leave
    // off the least severe ones and say how many.
    shrinkToFit(list);
    let shown = rows.length;
    if (overflows(list) || alerts.length > rows.length) {
      el.more.textContent = "+";
      el.more.hidden = false;
      shown = fitting(list, rows);
      for (const row of rows.slice(shown)) row.remove();
    }
    if (shown < alerts.length) {
      el.more.textContent = moreText(alerts.slice(shown));
    } else {
      el.more.hidden = true;
    }
  }

  /** "+ 23 more not shown: 7 average, 8 warning, 8 info". */
  function moreText(rest) {
    const bySeverity = new Map();
    for (const a of rest) {
      const s = SEVERITIES[rank(a.severity)];
      bySeverity.set(s, (bySeverity.get(s) || 0) + 1);
    }
    const parts = SEVERITIES.filter((s) => bySeverity.has(s)).map(
      (s) => `${bySeverity.get(s)} ${s}`,
    );
    return `+ ${rest.length} more not shown: ${parts.join(", ")}`;
  }

  /** Scales the rows down (all their sizes are in em) until they fit, but
   *  no smaller than MIN_ROW_SCALE: past that, rows are left off instead. */
  function shrinkToFit(list) {
    const last = list.lastElementChild;
    if (last === null || !overflows(list)) return;
    const needed = last.offsetTop + last.offsetHeight;
    let scale = Math.max(MIN_ROW_SCALE, (list.clientHeight / needed) * 0.995);
    for (let tries = 0; tries < 5; tries += 1) {
      list.style.setProperty("--row-scale", scale.toFixed(3));
      if (!overflows(list) || scale <= MIN_ROW_SCALE) return;
      scale = Math.max(MIN_ROW_SCALE, scale - 0.02);
    }
  }

  function overflows(list) {
    const last = list.lastElementChild;
    return last !== null && last.offsetTop + last.offsetHeight > list.clientHeight;
  }

  /** How many of `rows` fit, from the top. */
  function fitting(list, rows) {
    const height = list.clientHeight;
    let n = 0;
    while (n < rows.length && rows[n].offsetTop + rows[n].offsetHeight <= height) n += 1;
    return n;
  }

  /** One alert as a row. Every piece of alert text goes in as text. */
  function alertRow(alert, now) {
    const severity = SEVERITIES[rank(alert.severity)];
    const row = document.createElement("li");
    row.className = `alert sev-${severity}`;
    row.dataset.id = alert.id;
    row.dataset.severity = severity;
    if (alert.acked_at) row.classList.add("acked");
    const fresh = state.fresh.has(alert.id);
    if (fresh) row.classList.add("fresh");

    row.append(
      cell("sev", LABEL[severity]),
      sinceCell(alert.created_at, now),
      cell("site", alert.site),
      cell("host", alert.host),
      messageCell(alert.message, fresh),
      ackCell(alert),
    );
    return row;
  }

  function cell(kind, text) {
    const span = document.createElement("span");
    span.className = kind;
    span.textContent = text == null ? "" : String(text);
    span.title = span.textContent;
    return span;
  }

  function messageCell(message, fresh) {
    const span = cell("msg", message);
    if (fresh) {
      const tag = document.createElement("span");
      tag.className = "new-tag";
      tag.textContent = "NEW";
      span.prepend(tag);
    }
    return span;
  }

  function sinceCell(createdAt, now) {
    const span = document.createElement("span");
    span.className = "since";
    const created = new Date(createdAt);
    if (Number.isNaN(created.getTime())) return span;
    span.textContent = clockTime(created, false);
    const age = document.createElement("small");
    age.textContent = formatAge(now - created.getTime());
    span.append(age);
    span.title = created.toISOString();
    return span;
  }

  function ackCell(alert) {
    const span = document.createElement("span");
    span.className = "ack";
    if (alert.acked_at) {
      span.textContent = alert.acked_by ? String(alert.acked_by) : "acknowledged";
      const at = new Date(alert.acked_at);
      span.title = Number.isNaN(at.getTime())
        ? span.textContent
        : `${span.textContent} at ${clockTime(at, false)}`;
    }
    return span;
  }

  function formatAge(ms) {
    const minutes = Math.max(0, Math.floor(ms / 60000));
    if (minutes < 1) return "now";
    if (minutes < 60) return `${minutes}m`;
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return `${hours}h${String(minutes % 60).padStart(2, "0")}`;
    return `${Math.floor(hours / 24)}d`;
  }

  function clockTime(date, seconds) {
    const parts = [date.getHours(), date.getMinutes()];
    if (seconds) parts.push(date.getSeconds());
    return parts.map((n) => String(n).padStart(2, "0")).join(":");
  }

  /** The header's link word, the banner and the stale marking. */
  function drawLink() {
    const down = state.link === "down";
    el.body.dataset.link = state.link;
    el.body.classList.toggle("stale", down);
    el.banner.hidden = !down;
    if (state.link === "live") {
      el.linkText.textContent = "LIVE";
    } else if (down) {
      el.linkText.textContent = "OFFLINE";
    } else {
      el.linkText.textContent = "CONNECTING";
    }
    drawStaleNote();
    drawScope();
  }

  function drawStaleNote() {
    if (state.link !== "down") {
      el.staleNote.hidden = true;
      return;
    }
    const parts = [
      state.lastDataAt
        ? `STALE: the last known alerts, as of ${clockTime(state.lastDataAt, true)}`
        : "STALE: no alerts received yet",
    ];
    if (state.retryAt !== null) {
      const wait = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
      parts.push(wait > 0 ? `next try in ${wait} s` : "trying now");
    } else {
      parts.push("trying now");
    }
    el.staleNote.textContent = parts.join(" · ");
    el.staleNote.hidden = false;
  }

  function tickClock() {
    const now = new Date();
    el.clockTime.textContent = clockTime(now, true);
    const date = now.toLocaleDateString("en-GB", {
      weekday: "short",
      day: "numeric",
      month: "short",
      year: "numeric",
    });
    const utc = `${String(now.getUTCHours()).padStart(2, "0")}:${String(now.getUTCMinutes()).padStart(2, "0")}`;
    el.clockDate.textContent = `${date} · UTC ${utc}`;
    drawStaleNote();
  }

  /** Pulses the new critical rows, and lets them go when their time is up. */
  function pulse() {
    const now = Date.now();
    let expired = false;
    for (const until of state.fresh.values()) {
      if (until <= now) expired = true;
    }
    if (expired) render();
    // A stale picture has no news: it does not pulse.
    const on = state.fresh.size > 0 && state.link !== "down" && !el.list.classList.contains("pulse");
    el.list.classList.toggle("pulse", on);
  }

  // ---- start -------------------------------------------------------------

  tickClock();
  drawLink();
  render();
  setInterval(tickClock, 1000);
  setInterval(pulse, PULSE_MS);
  setInterval(render, AGE_REFRESH_MS);
  window.addEventListener("resize", scheduleRender);
  connect();
})();
