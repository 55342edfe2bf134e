// The browser NOC screen: one WebSocket to /ws/alerts on the page's own
// origin, a snapshot and then live events, drawn as a list or a board.
//
// Plain JavaScript modules with no build step, so that an operator can
// edit them and rebuild noc-server (which embeds them). This file wires
// the parts together; the parts live in static/ (docs/browser.md lists
// them). The contract is the "WebSocket", "browser screen", "screens,
// part two" and "screen profiles" sections of the protocol.
//
// One rule above all: alert text comes from monitoring systems and is
// hostile input. It only ever reaches the page through textContent (and
// plain DOM properties such as title); never through innerHTML or any
// other HTML parser.

import { currentToken } from "./static/api.js";
import { drawBoard } from "./static/board.js";
import { drawControls, drawTitle, identify, initControls } from "./static/controls.js";
import { closeDrawer, openAlert, openDrawer, updateDrawer } from "./static/drawer.js";
import { clockTime, displayOrder } from "./static/format.js";
import { startLink } from "./static/link.js";
import { clearList, drawCounts, drawList } from "./static/list.js";
import { applyEvent, applySnapshot, expireFresh, model } from "./static/model.js";
import { refreshAges } from "./static/rows.js";
import { applyProfile, currentView, settings } from "./static/settings.js";
import { initSound, noteEvent, setBell, sound, tick as bellTick } from "./static/sound.js";

const PULSE_MS = 600;
const query = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);

// ---- the protocol --------------------------------------------------------

/** `ws(s)://<this origin>/ws/alerts` with the page's own filter and token. */
function socketUrl() {
  // Relative, so that the screen also works behind a proxy under a prefix.
  const url = new URL("ws/alerts", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.search = "";
  url.hash = "";
  for (const key of ["sites", "min_severity", "client"]) {
    const value = query.get(key);
    if (value !== null && value !== "") url.searchParams.set(key, value);
  }
  // A browser cannot set headers on a WebSocket: the token goes in its
  // query, where the server also takes it.
  const { token } = currentToken();
  if (token) url.searchParams.set("token", token);
  return url.href;
}

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
      onSnapshot(message);
      break;
    case "heartbeat":
      link.send({ event: "pong", ts: message.ts });
      break;
    case "profile":
      useProfile(message.profile ?? null);
      scheduleRender();
      break;
    case "identify":
      identify(query.get("client") || "this screen");
      break;
    case "error":
      console.warn("the server could not use a message:", message.message);
      break;
    default:
      if (typeof message.event === "string" && message.event.startsWith("alert.")) {
        onAlertEvent(message);
      }
      // Anything else is from a newer server; an older screen ignores it.
      break;
  }
}

function onSnapshot(snapshot) {
  applySnapshot(snapshot);
  if ("profile" in snapshot) useProfile(model.profile);
  const open = openAlert();
  if (open && model.alerts.has(open.id)) updateDrawer(model.alerts.get(open.id));
  link.live(Number(snapshot.heartbeat_ms));
  bellTick(model.alerts);
  render();
}

function onAlertEvent(event) {
  const change = applyEvent(event);
  if (change === null) return;
  updateDrawer(change.alert);
  noteEvent(change);
  scheduleRender();
}

let appliedProfile = "null";

/** A profile replaces the settings only when it changed, so that a
 *  reconnect keeps the operator's toggles. */
function useProfile(profile) {
  const text = JSON.stringify(profile);
  if (text === appliedProfile && window.noc.profiles > 0) return;
  appliedProfile = text;
  window.noc.profiles += 1;
  applyProfile(profile);
  setBell(settings.bell);
  drawTitle();
  drawControls();
}

// ---- drawing -------------------------------------------------------------

let frame = null;

/** Everything that arrives before the next frame is drawn in it. */
function scheduleRender() {
  if (frame === null) frame = requestAnimationFrame(render);
}

function render() {
  if (frame !== null) cancelAnimationFrame(frame);
  frame = null;
  const started = performance.now();
  const now = Date.now();
  expireFresh(now);
  const all = [...model.alerts.values()];
  const counts = drawCounts(all);
  const shown = all
    .filter((a) => (settings.showSilenced || !a.silenced_by) && !(settings.hideAcked && a.acked_at))
    .sort(displayOrder);
  const view = currentView(now);
  document.body.dataset.view = view;
  // Only the picture in view is kept in the page.
  if (view === "board") {
    clearList();
    drawBoard(shown);
  } else {
    $("board").replaceChildren();
    drawList(shown, model.fresh, now);
  }
  $("empty").hidden = shown.length > 0 || !model.haveData;
  $("list-title").textContent = listTitle(all.length - shown.length, counts);
  document.title =
    counts.critical > 0 ? `(${counts.critical} critical) ${settings.title}` : settings.title;
  drawScope();
  drawControls();
  window.noc.rendered += 1;
  const took = performance.now() - started;
  window.noc.renderMs = { last: took, max: Math.max(took, window.noc.renderMs.max) };
}

function listTitle(hidden, counts) {
  const parts = [model.truncated ? "Active alerts — the server sent the first 1000 only" : "Active alerts"];
  if (settings.hideAcked && counts.acked > 0) parts.push(`${counts.acked} acknowledged hidden`);
  if (!settings.showSilenced && counts.silenced > 0) parts.push(`SILENCED ${counts.silenced} hidden`);
  return hidden > 0 || parts.length > 1 ? parts.join(" · ") : parts[0];
}

function drawScope() {
  const names = model.haveData ? model.siteNames : listParam("sites");
  const sites = names && names.length > 0 ? `Sites: ${names.join(", ")}` : "All sites";
  const min = model.haveData ? model.minSeverity : query.get("min_severity") || "info";
  const parts = [sites, min === "info" ? "every severity" : `${min} and above`];
  const client = query.get("client");
  if (client) parts.push(`screen ${client}`);
  $("scope").textContent = parts.join(" · ");
  $("scope").title = $("scope").textContent;
}

function listParam(key) {
  const value = query.get(key);
  if (!value) return null;
  const list = value.split(",").map((s) => s.trim()).filter((s) => s && s !== "*");
  return list.length > 0 ? list : null;
}

/** The header's link word, the banner and the stale marking. */
function drawLink() {
  const down = link.state === "down";
  document.body.dataset.link = link.state;
  document.body.classList.toggle("stale", down);
  $("banner").hidden = !down;
  $("link-text").textContent = link.state === "live" ? "LIVE" : down ? "OFFLINE" : "CONNECTING";
  drawStaleNote();
  drawScope();
}

function drawStaleNote() {
  const note = $("stale-note");
  if (link.state !== "down") {
    note.hidden = true;
    return;
  }
  const parts = [
    model.lastDataAt
      ? `STALE: the last known alerts, as of ${clockTime(model.lastDataAt, true)}`
      : "STALE: no alerts received yet",
  ];
  const wait = link.retryAt === null ? 0 : Math.ceil((link.retryAt - Date.now()) / 1000);
  parts.push(wait > 0 ? `next try in ${wait} s` : "trying now");
  note.textContent = parts.join(" · ");
  note.hidden = false;
}

/** Every second: the clock, the ages, the bell, the rotation. */
function everySecond() {
  const now = new Date();
  $("clock-time").textContent = clockTime(now, true);
  const date = now.toLocaleDateString("en-GB", {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
  });
  const utc = `${String(now.getUTCHours()).padStart(2, "0")}:${String(now.getUTCMinutes()).padStart(2, "0")}`;
  $("clock-date").textContent = `${date} · UTC ${utc}`;
  drawStaleNote();
  refreshAges(now.getTime());
  bellTick(model.alerts);
  if (currentView(now.getTime()) !== document.body.dataset.view) scheduleRender();
}

/** Pulses the new critical rows, and lets them go when their time is up. */
function pulse() {
  if (expireFresh(Date.now())) render();
  // A stale picture has no news: it does not pulse.
  const list = $("alerts");
  const on = model.fresh.size > 0 && link.state !== "down" && !list.classList.contains("pulse");
  list.classList.toggle("pulse", on);
}

// ---- start ---------------------------------------------------------------

/** The page's own state, for the curious and for the browser tests. */
window.noc = { model, settings, sound, rendered: 0, renderMs: { last: 0, max: 0 }, profiles: 0 };

$("alerts").addEventListener("click", (event) => {
  const row = event.target.closest("li[data-id]");
  const alert = row && model.alerts.get(row.dataset.id);
  if (alert) openDrawer(alert);
});
// A board tile opens its site's worst alert.
$("board").addEventListener("click", (event) => {
  const tile = event.target.closest(".tile[data-id]");
  const alert = tile && model.alerts.get(tile.dataset.id);
  if (alert) openDrawer(alert);
});
$("alerts").addEventListener("keydown", (event) => {
  if (event.key === "Enter") event.target.click();
});
$("drawer-close").addEventListener("click", closeDrawer);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closeDrawer();
});

useProfile(null);
initControls(scheduleRender);
initSound(drawControls);
const link = startLink(socketUrl, onMessage, drawLink);
drawLink();
render();
everySecond();
setInterval(everySecond, 1000);
setInterval(pulse, PULSE_MS);
window.addEventListener("resize", scheduleRender);
