// The bell: a tone for new alerts at or above the bell's severity, again
// every 30 s while such an alert stays new and unacknowledged, at most one
// tone per 5 s however many arrive, and none while muted.
//
// The tone is generated with WebAudio, so there is no file to fetch.
// Browsers keep audio suspended until someone interacts with the page;
// `sound.blocked` says so, and the page shows a note until it may play
// (a kiosk can start Chromium with --autoplay-policy=no-user-gesture-required).

import { rank } from "./format.js";

const REPEAT_MS = 30000;
const MIN_GAP_MS = 5000;

/** The page's own account of its bell, read by people and tests alike. */
export const sound = {
  /** Tones played since the page loaded. */
  played: 0,
  /** Tones due but held back by the mute. */
  mutedSkips: 0,
  muted: false,
  mutedUntil: null,
  blocked: true,
  /** The severity that rings, or null when the bell is off. */
  bell: null,
  lastPlayedAt: null,
  /** How many alerts are ringing (new and unacknowledged). */
  ringing: 0,
};

/** id → when it rings next. */
const due = new Map();
let context = null;
let onChange = () => {};

export function initSound(changed) {
  onChange = changed;
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  context = new Context();
  const update = () => {
    sound.blocked = context.state !== "running";
    onChange();
  };
  context.onstatechange = update;
  update();
  // Any click or key is the interaction browsers wait for.
  for (const type of ["pointerdown", "keydown"]) {
    document.addEventListener(type, () => context.resume().catch(() => {}), true);
  }
  context.resume().catch(() => {});
}

export function setBell(severity) {
  sound.bell = severity;
  if (severity === null) due.clear();
}

export function mute(ms) {
  sound.muted = true;
  sound.mutedUntil = Date.now() + ms;
  onChange();
}

/** Alerts still new and unacknowledged ring again at once. */
export function unmute() {
  sound.muted = false;
  sound.mutedUntil = null;
  const now = Date.now();
  for (const id of due.keys()) due.set(id, now);
  onChange();
}

/** An alert event happened: a new alert (or one raised) at or above the
 *  bell starts ringing; one acknowledged, resolved, silenced, or lowered
 *  below the bell stops. */
export function noteEvent(change) {
  if (sound.bell === null || change === null) return;
  const { alert, before, shown } = change;
  if (!shown || !rings(alert)) {
    due.delete(alert.id);
    return;
  }
  const wasRinging = before !== undefined && rings(before);
  if (!wasRinging && !due.has(alert.id)) due.set(alert.id, Date.now());
  tick();
}

function rings(alert) {
  return (
    rank(alert.severity) <= rank(sound.bell) && !alert.acked_at && !alert.silenced_by
  );
}

/** Called every second and after each event: plays when something is due. */
export function tick(alerts) {
  const now = Date.now();
  if (alerts) {
    for (const id of due.keys()) {
      const alert = alerts.get(id);
      if (!alert || !rings(alert)) due.delete(id);
    }
  }
  if (sound.muted && sound.mutedUntil <= now) unmute();
  sound.ringing = due.size;
  const ready = [...due.entries()].filter(([, at]) => at <= now);
  if (ready.length === 0) return;
  if (sound.lastPlayedAt !== null && now - sound.lastPlayedAt < MIN_GAP_MS) return;
  if (sound.muted) {
    sound.mutedSkips += 1;
  } else if (!sound.blocked) {
    play();
    sound.played += 1;
  }
  // Blocked or muted, the tone is owed again in 30 s, not every second.
  sound.lastPlayedAt = now;
  for (const [id] of ready) due.set(id, now + REPEAT_MS);
  onChange();
}

/** Two short beeps, loud enough across a room, not a siren. */
function play() {
  const start = context.currentTime + 0.01;
  for (const offset of [0, 0.3]) {
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.type = "square";
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.2, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.22);
    osc.connect(gain).connect(context.destination);
    osc.start(start + offset);
    osc.stop(start + offset + 0.25);
  }
}
