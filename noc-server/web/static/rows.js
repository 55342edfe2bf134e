// One alert as a row of the list. Every piece of alert text goes in as
// text (textContent, title), never as HTML.

import { clockTime, formatAge, isSourceSilent, severityOf } from "./format.js";

const LABEL = {
  critical: "CRITICAL",
  high: "HIGH",
  average: "AVERAGE",
  warning: "WARNING",
  info: "INFO",
};

/** The age spans on screen, refreshed every second by `refreshAges`. */
let ages = [];

/** Forgets the age spans of the rows that were replaced. */
export function resetAges() {
  ages = ages.filter(({ span }) => span.isConnected);
}

export function refreshAges(now) {
  for (const { span, since } of ages) span.textContent = formatAge(now - since);
}

export function alertRow(alert, fresh, now) {
  const severity = severityOf(alert);
  const row = document.createElement("li");
  row.className = `alert sev-${severity}`;
  row.dataset.id = alert.id;
  row.dataset.severity = severity;
  row.tabIndex = 0;
  row.classList.toggle("acked", Boolean(alert.acked_at));
  row.classList.toggle("fresh", fresh);
  row.classList.toggle("flapping", alert.flapping === true);
  row.classList.toggle("silenced", Boolean(alert.silenced_by));
  row.classList.toggle("everywhere", alert.site === "*");
  row.classList.toggle("source-silent", isSourceSilent(alert));
  row.append(
    cell("sev", LABEL[severity]),
    sinceCell(alert.created_at, now),
    siteCell(alert.site),
    cell("host", alert.host),
    messageCell(alert, fresh),
    ackCell(alert),
  );
  return row;
}

export function cell(kind, text) {
  const span = document.createElement("span");
  span.className = kind;
  span.textContent = text == null ? "" : String(text);
  span.title = span.textContent;
  return span;
}

export function tag(kind, text) {
  const span = document.createElement("span");
  span.className = `tag ${kind}`;
  span.textContent = text;
  return span;
}

/** `*` alerts are for every site, and say so. */
function siteCell(site) {
  if (site !== "*") return cell("site", site);
  const span = cell("site", "* every site");
  span.title = "an alert for every site";
  return span;
}

/** The message, after the tags that must catch the eye first. */
function messageCell(alert, fresh) {
  const span = cell("msg", alert.message);
  const tags = [];
  if (isSourceSilent(alert)) tags.push(tag("silent-tag", "SOURCE SILENT"));
  if (fresh) tags.push(tag("new-tag", "NEW"));
  if (alert.flapping === true) tags.push(tag("flap-tag", "FLAP"));
  if (alert.silenced_by) tags.push(tag("silenced-tag", "SILENCED"));
  span.prepend(...tags);
  return span;
}

function sinceCell(createdAt, now) {
  const span = document.createElement("span");
  span.className = "since";
  const created = new Date(createdAt);
  if (Number.isNaN(created.getTime())) return span;
  span.textContent = clockTime(created, false);
  const age = document.createElement("small");
  age.className = "age";
  age.textContent = formatAge(now - created.getTime());
  ages.push({ span: age, since: created.getTime() });
  span.append(age);
  span.title = created.toISOString();
  return span;
}

/** `[ACK] who`, and a marker when telling the source about it failed. */
function ackCell(alert) {
  const span = document.createElement("span");
  span.className = "ack";
  if (alert.acked_at) {
    const who = alert.acked_by ? String(alert.acked_by) : "someone";
    span.textContent = `[ACK] ${who}`;
    const at = new Date(alert.acked_at);
    span.title = Number.isNaN(at.getTime())
      ? span.textContent
      : `${span.textContent} at ${clockTime(at, false)}`;
    if (alert.ack_note) span.title += ` — ${alert.ack_note}`;
  }
  if (alert.writeback && alert.writeback.state === "failed") {
    const marker = tag("wb-failed", "⚠ WRITE-BACK FAILED");
    marker.title = `the source was not told: ${alert.writeback.error || "unknown error"}`;
    span.prepend(marker);
  }
  return span;
}
