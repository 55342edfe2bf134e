// The list and the counts above it. A wall screen never scrolls: rows
// shrink to fit, then the least severe are left off and counted.

import { SEVERITIES, severityOf } from "./format.js";
import { alertRow, resetAges } from "./rows.js";

/** Rows shrink to this fraction of their size before any is left off. */
const MIN_ROW_SCALE = 0.7;
/** More rows than ever fit (about 20 at the smallest scale, whatever the
 *  window: the layout scales with its height); the rest are only counted. */
const MAX_ROWS = 40;

const $ = (id) => document.getElementById(id);

/** id → { alert, fresh, row }: a row is rebuilt only when its alert
 *  changed, which keeps a storm of events cheap to draw. */
let cache = new Map();

/** Counts per severity, total, acknowledged and silenced. Silenced alerts
 *  are counted apart, whether shown or not. */
export function drawCounts(all) {
  const counts = { total: 0, acked: 0, silenced: 0 };
  for (const s of SEVERITIES) counts[s] = 0;
  for (const a of all) {
    if (a.silenced_by) {
      counts.silenced += 1;
      continue;
    }
    counts[severityOf(a)] += 1;
    counts.total += 1;
    if (a.acked_at) counts.acked += 1;
  }
  for (const key of [...SEVERITIES, "total", "acked", "silenced"]) {
    const node = $(`count-${key}`);
    node.textContent = String(counts[key]);
    node.parentElement.classList.toggle("nonzero", counts[key] > 0);
  }
  return counts;
}

/** Draws `alerts` (sorted, already filtered) into the list. */
export function drawList(alerts, fresh, now) {
  const list = $("alerts");
  const next = new Map();
  const rows = alerts.slice(0, MAX_ROWS).map((alert) => {
    const isFresh = fresh.has(alert.id);
    const old = cache.get(alert.id);
    const row =
      old && old.alert === alert && old.fresh === isFresh ? old.row : alertRow(alert, isFresh, now);
    next.set(alert.id, { alert, fresh: isFresh, row });
    return row;
  });
  cache = next;
  list.style.setProperty("--row-scale", "1");
  const more = $("more");
  more.hidden = true;
  list.replaceChildren(...rows);
  resetAges();

  shrinkToFit(list);
  let shown = rows.length;
  if (overflows(list) || alerts.length > rows.length) {
    // The line takes its room before the rows are measured.
    more.textContent = "+";
    more.hidden = false;
    shown = fitting(list, rows);
    for (const row of rows.slice(shown)) row.remove();
  }
  if (shown < alerts.length) {
    more.textContent = moreText(alerts.slice(shown));
  } else {
    more.hidden = true;
  }
}

/** Empties the list while the board is shown. */
export function clearList() {
  cache = new Map();
  $("alerts").replaceChildren();
  $("more").hidden = true;
  resetAges();
}

/** "+ 23 more not shown: 7 average, 8 warning, 8 info". */
function moreText(rest) {
  const bySeverity = new Map();
  for (const a of rest) {
    const s = severityOf(a);
    bySeverity.set(s, (bySeverity.get(s) || 0) + 1);
  }
  const parts = SEVERITIES.filter((s) => bySeverity.has(s)).map(
    (s) => `${bySeverity.get(s)} ${s}`,
  );
  return `+ ${rest.length} more not shown: ${parts.join(", ")}`;
}

/** Scales the rows down (all their sizes are in em, so the height of the
 *  rows is proportional to the scale) until they fit, but no smaller than
 *  MIN_ROW_SCALE: past that, rows are left off instead. One layout to
 *  measure, one to check: a storm redraws often. */
function shrinkToFit(list) {
  const last = list.lastElementChild;
  if (last === null || !overflows(list)) return;
  const needed = last.offsetTop + last.offsetHeight;
  const scale = Math.max(MIN_ROW_SCALE, Math.floor((list.clientHeight / needed) * 1000) / 1000);
  list.style.setProperty("--row-scale", scale.toFixed(3));
  if (overflows(list) && scale > MIN_ROW_SCALE) {
    list.style.setProperty("--row-scale", Math.max(MIN_ROW_SCALE, scale - 0.02).toFixed(3));
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
