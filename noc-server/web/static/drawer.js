// One alert's details, opened by clicking its row: every field, labels,
// link, description, the actions, and its notes and history from the API,
// kept up to date while it is open.

import { actionBar } from "./actions.js";
import { alertPath, request } from "./api.js";
import { longTime, severityOf } from "./format.js";
import { cell } from "./rows.js";

/** The order fields are listed in; any others the server adds follow. */
const FIELD_ORDER = [
  "id", "status", "severity", "site", "host", "source", "created_at", "updated_at",
  "last_seen_at", "occurrences", "expires_at", "resolved_at", "acked_by", "acked_at",
  "ack_note", "ack_expires_at", "silenced_by", "flapping", "notes", "writeback",
];
/** Shown in their own places rather than in the field list. */
const APART = new Set(["message", "description", "url", "labels", "event", "seq"]);
/** Events arriving together refetch the history once. */
const HISTORY_DELAY_MS = 250;

const $ = (id) => document.getElementById(id);
let current = null;
let historyTimer = null;
/** Counts fetches, so that an older answer never overwrites a newer one. */
let fetches = 0;

export function openAlert() {
  return current;
}

export function openDrawer(alert) {
  current = alert;
  const drawer = $("drawer");
  // Below the counts and the controls (sign-in, mute), which stay usable.
  drawer.style.top = `${document.querySelector(".board-title").getBoundingClientRect().bottom}px`;
  drawer.hidden = false;
  $("drawer-actions").replaceChildren(actionBar(() => current));
  $("drawer-notes").replaceChildren();
  $("drawer-history").replaceChildren(cell("loading", "Loading history…"));
  drawFields();
  loadHistory();
}

export function closeDrawer() {
  current = null;
  $("drawer").hidden = true;
  clearTimeout(historyTimer);
}

/** A newer state of the open alert arrived (an event, a snapshot). */
export function updateDrawer(alert) {
  if (current === null || alert.id !== current.id) return;
  current = alert;
  drawFields();
  clearTimeout(historyTimer);
  historyTimer = setTimeout(loadHistory, HISTORY_DELAY_MS);
}

function drawFields() {
  const a = current;
  const now = Date.now();
  const drawer = $("drawer");
  drawer.className = `drawer sev-${severityOf(a)}`;
  drawer.dataset.id = a.id;
  $("drawer-title").textContent = `${String(a.severity).toUpperCase()} · ${a.site === "*" ? "* every site" : a.site}`;
  $("drawer-message").textContent = a.message == null ? "" : String(a.message);
  $("drawer-description").textContent = a.description ? String(a.description) : "";
  $("drawer-description").hidden = !a.description;
  drawLink(a.url);

  const keys = [...FIELD_ORDER, ...Object.keys(a).filter((k) => !FIELD_ORDER.includes(k))];
  const rows = [];
  for (const key of keys) {
    if (APART.has(key) || !(key in a)) continue;
    rows.push(cell("field-name", key), cell("field-value", fieldText(key, a[key], now)));
  }
  $("drawer-fields").replaceChildren(...rows);

  const labels = a.labels && typeof a.labels === "object" ? Object.entries(a.labels) : [];
  const labelRows = labels.flatMap(([k, v]) => [cell("label-name", k), cell("label-value", v)]);
  $("drawer-labels").replaceChildren(...labelRows);
  $("drawer-labels-title").hidden = labels.length === 0;
}

function fieldText(key, value, now) {
  if (value === null || value === undefined || value === "") return "—";
  if (key.endsWith("_at")) return longTime(value, now);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** The source's own page, only over http(s), in a new tab that cannot
 *  reach back into this one. */
function drawLink(url) {
  const link = $("drawer-link");
  let safe = null;
  try {
    const parsed = new URL(String(url));
    if (parsed.protocol === "http:" || parsed.protocol === "https:") safe = parsed.href;
  } catch {
    // Not a URL: no link.
  }
  link.hidden = safe === null;
  if (safe === null) {
    link.removeAttribute("href");
    link.textContent = "";
    return;
  }
  link.href = safe;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  link.textContent = `Open in the source ↗ ${safe}`;
}

async function loadHistory() {
  if (current === null) return;
  const id = current.id;
  const mine = ++fetches;
  const answer = await request("GET", alertPath(id, "/history"));
  if (mine !== fetches || current === null || current.id !== id) return;
  if (!answer.ok || !Array.isArray(answer.data)) {
    $("drawer-history").replaceChildren(cell("error", `History not available. ${answer.error || ""}`));
    return;
  }
  const now = Date.now();
  const notes = answer.data.filter((e) => e.note && e.event === "alert.noted");
  $("drawer-notes").replaceChildren(...notes.map((e) => noteItem(e, now)));
  if (notes.length === 0) $("drawer-notes").append(cell("none", "No notes."));
  $("drawer-history").replaceChildren(...answer.data.map((e) => historyItem(e, now)));
}

function noteItem(entry, now) {
  const item = document.createElement("li");
  const note = typeof entry.note === "object" ? entry.note : { text: entry.note };
  item.append(
    cell("when", longTime(entry.at, now)),
    cell("by", note.author || entry.by),
    cell("text", note.text),
  );
  return item;
}

function historyItem(entry, now) {
  const item = document.createElement("li");
  const what = entry.reason ? `${entry.event} (${entry.reason})` : entry.event;
  item.append(cell("when", longTime(entry.at, now)), cell("what", what), cell("by", entry.by));
  if (entry.note) {
    const text = typeof entry.note === "object" ? entry.note.text : entry.note;
    item.append(cell("note", `“${text}”`));
  }
  const changes = entry.changes && typeof entry.changes === "object" ? entry.changes : {};
  for (const [field, pair] of Object.entries(changes)) {
    const [before, after] = Array.isArray(pair) ? pair : [null, pair];
    // A new alert's fields are all "from nothing": they are listed below.
    if (entry.event === "alert.created" && before === null) continue;
    item.append(cell("change", `${field}: ${show(before)} → ${show(after)}`));
  }
  return item;
}

function show(value) {
  return value === null || value === undefined ? "—" : typeof value === "object" ? JSON.stringify(value) : String(value);
}
