// How this screen looks: its own query parameters and toggles, replaced
// field by field by its profile (`?client=wall-3`) when the server has one.

import { isSeverity, parseDuration } from "./format.js";

const query = new URLSearchParams(location.search);
const DEFAULT_ROTATE_MS = 30000;

/** The screen's own settings, before any profile. */
const own = {
  title: "NOC alerts",
  view: ["list", "board", "rotate"].includes(query.get("view")) ? query.get("view") : "list",
  rotateMs: parseDuration(query.get("rotate"), DEFAULT_ROTATE_MS),
  hideAcked: query.get("hide_acked") === "true",
  showSilenced: query.get("show_silenced") === "true",
  bell: bellOf(query.get("bell")),
};

/** The settings in force; read everywhere, changed only here. */
export const settings = { ...own };

function bellOf(value) {
  if (value == null || value === "" || value === "off") return null;
  return isSeverity(value) ? value : null;
}

/** Applies a profile (or `null`: none) over the screen's own settings.
 *  The operator's toggles since then are dropped: the profile decides. */
export function applyProfile(profile) {
  Object.assign(settings, own);
  if (!profile || typeof profile !== "object") return;
  if (typeof profile.title === "string" && profile.title) settings.title = profile.title;
  if (["list", "board", "rotate"].includes(profile.view)) settings.view = profile.view;
  if (profile.rotate) settings.rotateMs = parseDuration(profile.rotate, DEFAULT_ROTATE_MS);
  if (typeof profile.hide_acked === "boolean") settings.hideAcked = profile.hide_acked;
  if (typeof profile.show_silenced === "boolean") settings.showSilenced = profile.show_silenced;
  if (profile.bell != null) settings.bell = bellOf(profile.bell);
}

/** The picture to show now: with `rotate`, list and board in turn. */
export function currentView(now) {
  if (settings.view !== "rotate") return settings.view;
  return Math.floor(now / Math.max(1000, settings.rotateMs)) % 2 === 0 ? "list" : "board";
}
