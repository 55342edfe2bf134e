// Severities, times and ages as the screens show them, with no DOM.

/** Most to least severe, as the server orders them. */
export const SEVERITIES = ["critical", "high", "average", "warning", "info"];
const RANK = new Map(SEVERITIES.map((s, i) => [s, i]));

/** 0 for critical … 4 for info; anything unknown counts as info. */
export function rank(severity) {
  return RANK.has(severity) ? RANK.get(severity) : RANK.get("info");
}

export function isSeverity(name) {
  return RANK.has(name);
}

/** The severity name an unknown one is shown as. */
export function severityOf(alert) {
  return SEVERITIES[rank(alert.severity)];
}

/** The server raises these itself when a source falls silent. */
export function isSourceSilent(alert) {
  return alert.source === "noc-server" && String(alert.id).startsWith("source-silent-");
}

/** Source-silent alerts on top (a blind spot hides everything else), then
 *  most severe, then newest, then by id: the terminal's order. */
export function displayOrder(a, b) {
  return (
    Number(isSourceSilent(b)) - Number(isSourceSilent(a)) ||
    rank(a.severity) - rank(b.severity) ||
    compare(String(b.created_at), String(a.created_at)) ||
    compare(a.id, b.id)
  );
}

function compare(x, y) {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `42s` under a minute, `17m`, `3h12m`, `2d5h`: the contract's ages. */
export function formatAge(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d${hours % 24}h`;
}

/** `HH:MM` or `HH:MM:SS` in the browser's local time. */
export function clockTime(date, seconds) {
  const parts = [date.getHours(), date.getMinutes()];
  if (seconds) parts.push(date.getSeconds());
  return parts.map((n) => String(n).padStart(2, "0")).join(":");
}

/** A stored time as the drawer shows it: local date and time, and age. */
export function longTime(value, now) {
  if (value == null || value === "") return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const day = date.toLocaleDateString("en-GB", { day: "numeric", month: "short" });
  const age = date.getTime() <= now ? ` (${formatAge(now - date.getTime())} ago)` : "";
  return `${day} ${clockTime(date, true)}${age}`;
}

/** `30s`, `2m`, `1h`, `250ms` as milliseconds; `fallback` otherwise. */
export function parseDuration(text, fallback) {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(String(text || ""));
  if (!match) return fallback;
  const unit = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 }[match[2]];
  return Number(match[1]) * unit;
}
