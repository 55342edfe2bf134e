// The board: one tile per site with its counts and its worst alert, for a
// wall that watches many sites at once.

import { SEVERITIES, displayOrder, severityOf } from "./format.js";
import { cell } from "./rows.js";

const $ = (id) => document.getElementById(id);

/** Draws `alerts` (sorted, already filtered) as tiles, worst site first. */
export function drawBoard(alerts) {
  const bySite = new Map();
  for (const alert of alerts) {
    const site = alert.site === "*" ? "* every site" : String(alert.site);
    if (!bySite.has(site)) bySite.set(site, []);
    bySite.get(site).push(alert);
  }
  const sites = [...bySite.entries()].sort(
    ([a, x], [b, y]) => displayOrder(x[0], y[0]) || (a < b ? -1 : 1),
  );
  $("board").replaceChildren(...sites.map(([site, list]) => tile(site, list)));
}

function tile(site, alerts) {
  const worst = alerts[0];
  const node = document.createElement("div");
  node.className = `tile sev-${severityOf(worst)}`;
  node.dataset.site = site;
  node.dataset.id = worst.id;
  const counts = document.createElement("div");
  counts.className = "tile-counts";
  for (const s of SEVERITIES) {
    const n = alerts.filter((a) => severityOf(a) === s).length;
    if (n > 0) counts.append(cell(`tile-n sev-${s}`, `${n} ${s}`));
  }
  node.append(cell("tile-site", site), counts, cell("tile-worst", worst.message));
  return node;
}
