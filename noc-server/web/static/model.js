// What the screen knows: the active alerts that match its filter, kept by
// the protocol's rules from snapshots and events. No DOM here.

import { isSeverity, rank } from "./format.js";

/** How long a new critical alert stands out. */
const FRESH_MS = 10000;

export const model = {
  /** id → alert, the active alerts that match this screen's filter. */
  alerts: new Map(),
  /** The last event this screen has: events at or below it are old news. */
  lastSeq: 0,
  /** Lower-cased site names, or null for every site. */
  sites: null,
  siteNames: null,
  minSeverity: "info",
  truncated: false,
  /** id → time until which the alert stands out. */
  fresh: new Map(),
  haveData: false,
  lastDataAt: null,
  /** The snapshot's profile (undefined before the first snapshot). */
  profile: undefined,
};

/** Replaces the whole picture, whatever the snapshot's reason. */
export function applySnapshot(snapshot) {
  model.alerts = new Map();
  for (const alert of Array.isArray(snapshot.alerts) ? snapshot.alerts : []) {
    if (isAlert(alert) && alert.status !== "resolved") model.alerts.set(alert.id, alert);
  }
  for (const id of model.fresh.keys()) {
    if (!model.alerts.has(id)) model.fresh.delete(id);
  }
  model.lastSeq = Number(snapshot.seq) || 0;
  model.siteNames = Array.isArray(snapshot.sites) ? snapshot.sites.map(String) : null;
  model.sites = model.siteNames ? new Set(model.siteNames.map((s) => s.toLowerCase())) : null;
  model.minSeverity = isSeverity(snapshot.min_severity) ? snapshot.min_severity : "info";
  model.truncated = snapshot.truncated === true;
  if ("profile" in snapshot) model.profile = snapshot.profile ?? null;
  model.haveData = true;
  model.lastDataAt = new Date();
}

/**
 * Applies one alert event. Returns `null` for old news, otherwise
 * `{ kind, alert, before, shown }`: the alert as the event carries it, as
 * it was on screen before (or undefined), and whether it is on screen now.
 */
export function applyEvent(event) {
  const seq = Number(event.seq);
  // Already in the snapshot, or already applied.
  if (!Number.isFinite(seq) || seq <= model.lastSeq) return null;
  model.lastSeq = seq;
  if (!isAlert(event)) return null;
  const { event: kind, seq: _seq, reason: _reason, note: _note, ...alert } = event;
  const before = model.alerts.get(alert.id);
  // The server sends an event when the alert matched this screen before
  // or after the change, so one that no longer matches must leave.
  const shown = kind !== "alert.resolved" && alert.status !== "resolved" && wanted(alert);
  if (shown) {
    model.alerts.set(alert.id, alert);
    const newlyCritical =
      alert.severity === "critical" &&
      (kind === "alert.created" || !before || before.severity !== "critical");
    if (newlyCritical) model.fresh.set(alert.id, Date.now() + FRESH_MS);
  } else {
    model.alerts.delete(alert.id);
    model.fresh.delete(alert.id);
  }
  model.lastDataAt = new Date();
  return { kind, alert, before, shown };
}

/** Drops the stand-out of alerts whose time is up; true if any went. */
export function expireFresh(now) {
  let expired = false;
  for (const [id, until] of model.fresh) {
    if (until <= now) {
      model.fresh.delete(id);
      expired = true;
    }
  }
  return expired;
}

function isAlert(a) {
  return a !== null && typeof a === "object" && typeof a.id === "string";
}

/** This screen's filter, as the snapshot stated it. An alert for every
 *  site (`*`) reaches every screen; its severity still counts. */
function wanted(alert) {
  const site = String(alert.site);
  const siteOk = model.sites === null || site === "*" || model.sites.has(site.toLowerCase());
  return siteOk && rank(alert.severity) <= rank(model.minSeverity);
}
