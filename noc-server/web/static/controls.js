// The screen's controls: sign-in, the bell's note and mute, the hide and
// show toggles, and the full-screen name for `identify`.

import { currentToken, signIn, signOut } from "./api.js";
import { clockTime } from "./format.js";
import { settings } from "./settings.js";
import { mute, sound, unmute } from "./sound.js";

const $ = (id) => document.getElementById(id);
const IDENTIFY_MS = 10000;

/** Wires the controls; `changed` redraws the screen after a toggle. */
export function initControls(changed) {
  $("signin-open").addEventListener("click", () => {
    if (currentToken().from === "sign-in") {
      signOut();
      drawSignIn();
      return;
    }
    $("signin").hidden = !$("signin").hidden;
    if (!$("signin").hidden) $("signin-token").focus();
  });
  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("signin-token").value.trim();
    if (!token) return;
    signIn(token);
    $("signin-token").value = "";
    $("signin").hidden = true;
    drawSignIn();
  });
  $("mute").addEventListener("click", () => {
    if (sound.muted) unmute();
    else mute(Number($("mute-for").value) * 60000);
  });
  $("toggle-acked").addEventListener("click", () => {
    settings.hideAcked = !settings.hideAcked;
    changed();
  });
  $("toggle-silenced").addEventListener("click", () => {
    settings.showSilenced = !settings.showSilenced;
    changed();
  });
  drawSignIn();
}

function drawSignIn() {
  const { from } = currentToken();
  const button = $("signin-open");
  button.textContent =
    from === "address" ? "Token from address" : from === "sign-in" ? "Sign out" : "Sign in";
  button.disabled = from === "address";
  document.body.dataset.token = from || "none";
}

/** The toggles' words, the bell's note and the mute button. */
export function drawControls() {
  $("toggle-acked").setAttribute("aria-pressed", String(settings.hideAcked));
  $("toggle-acked").title = settings.hideAcked ? "acknowledged alerts are hidden: show them" : "hide acknowledged alerts";
  $("toggle-silenced").setAttribute("aria-pressed", String(settings.showSilenced));
  $("toggle-silenced").title = settings.showSilenced ? "silenced alerts are shown: hide them" : "show silenced alerts";
  const bellOn = settings.bell !== null;
  $("sound-blocked").hidden = !(bellOn && sound.blocked);
  $("sound").hidden = !bellOn;
  $("mute").textContent = sound.muted
    ? `Muted until ${clockTime(new Date(sound.mutedUntil), false)} — unmute`
    : "Mute";
  $("mute").setAttribute("aria-pressed", String(sound.muted));
  $("mute-for").hidden = sound.muted;
  $("sound-state").textContent = `bell: ${settings.bell || "off"}`;
}

export function drawTitle() {
  $("title").textContent = settings.title;
  $("title").title = settings.title;
}

let identifyTimer = null;

/** Shows the screen's name across the whole screen for 10 s. */
export function identify(name) {
  const overlay = $("identify");
  overlay.textContent = name;
  overlay.hidden = false;
  clearTimeout(identifyTimer);
  identifyTimer = setTimeout(() => {
    overlay.hidden = true;
  }, IDENTIFY_MS);
}
