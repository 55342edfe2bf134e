// The drawer's four actions, each a small form sent with Enter or Send:
// Acknowledge (note, expiry), Unacknowledge, Add note, Silence (host or
// site, for a while, with a comment). Without a user token they say so and
// send nothing.

import { alertPath, currentToken, request } from "./api.js";

const ACTIONS = [
  { key: "ack", label: "Acknowledge", form: ackForm },
  { key: "unack", label: "Unacknowledge", form: unackForm },
  { key: "note", label: "Add note", form: noteForm },
  { key: "silence", label: "Silence", form: silenceForm },
];

/** The buttons, the open form and the last outcome, for the alert that
 *  `current()` returns at the time of sending. */
export function actionBar(current) {
  const bar = document.createElement("section");
  bar.className = "actions";
  const buttons = document.createElement("div");
  buttons.className = "action-buttons";
  const slot = document.createElement("div");
  slot.className = "action-form";
  const status = document.createElement("p");
  status.className = "action-status";
  status.setAttribute("role", "status");
  const say = (text, ok) => {
    status.textContent = text;
    status.classList.toggle("ok", ok === true);
    status.classList.toggle("error", ok === false);
  };
  for (const action of ACTIONS) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = `action action-${action.key}`;
    button.textContent = action.label;
    button.addEventListener("click", () => {
      if (!currentToken().token) {
        slot.replaceChildren();
        say(`A user token is needed to ${action.label.toLowerCase()}: sign in first. Nothing was sent.`, false);
        return;
      }
      say("", null);
      const form = action.form(current());
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        send(form, current(), say, () => slot.replaceChildren());
      });
      slot.replaceChildren(form);
      const first = form.querySelector("input, select, button");
      if (first) first.focus();
    });
    buttons.append(button);
  }
  bar.append(buttons, slot, status);
  return bar;
}

/** Sends the form's request and says what came of it. */
async function send(form, alert, say, done) {
  const { method, path, body, success } = form.build(alert);
  if (typeof body === "string") {
    say(body, false);
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  say("Sending…", null);
  const answer = await request(method, path, body);
  button.disabled = false;
  if (answer.ok) {
    say(success(answer.data), true);
    done();
  } else {
    say(answer.error, false);
  }
}

function makeForm(kind, fields, build) {
  const form = document.createElement("form");
  form.className = `form-${kind}`;
  form.autocomplete = "off";
  for (const field of fields) form.append(field);
  const button = document.createElement("button");
  button.type = "submit";
  button.textContent = "Send";
  form.append(button);
  form.build = build;
  return form;
}

function input(name, placeholder, value) {
  const label = document.createElement("label");
  label.textContent = placeholder;
  const box = document.createElement("input");
  box.type = "text";
  box.name = name;
  box.value = value || "";
  label.append(box);
  return label;
}

function value(form, name) {
  return form.elements[name].value.trim();
}

function ackForm() {
  const form = makeForm(
    "ack",
    [input("note", "Note (optional)"), input("expires_in", "Expires in, e.g. 2h (optional)")],
    (alert) => {
      const body = {};
      if (value(form, "note")) body.note = value(form, "note");
      if (value(form, "expires_in")) body.expires_in = value(form, "expires_in");
      return {
        method: "POST",
        path: alertPath(alert.id, "/ack"),
        body,
        success: () => "Acknowledged.",
      };
    },
  );
  return form;
}

function unackForm() {
  const hint = document.createElement("span");
  hint.textContent = "Take the acknowledgement back?";
  return makeForm("unack", [hint], (alert) => ({
    method: "POST",
    path: alertPath(alert.id, "/unack"),
    body: undefined,
    success: () => "Acknowledgement taken back.",
  }));
}

function noteForm() {
  const form = makeForm("note", [input("text", "Note")], (alert) => ({
    method: "POST",
    path: alertPath(alert.id, "/notes"),
    body: value(form, "text") ? { text: value(form, "text") } : "Write the note first.",
    success: () => "Note added.",
  }));
  return form;
}

function silenceForm(alert) {
  const what = document.createElement("label");
  what.textContent = "Silence";
  const select = document.createElement("select");
  select.name = "what";
  for (const [name, text] of [
    ["host", `host ${alert.host || "(none)"}`],
    ["site", `site ${alert.site}`],
  ]) {
    const option = document.createElement("option");
    option.value = name;
    option.textContent = text;
    option.disabled = name === "host" && !alert.host;
    select.append(option);
  }
  select.value = alert.host ? "host" : "site";
  what.append(select);
  const form = makeForm(
    "silence",
    [what, input("duration", "For, e.g. 2h", "1h"), input("comment", "Comment (required)")],
    (current) => {
      const name = value(form, "what");
      const target = name === "host" ? current.host : current.site;
      if (!value(form, "comment")) return { body: "A silence needs a comment." };
      return {
        method: "POST",
        path: "api/v1/silences",
        body: {
          matchers: [{ name, op: "=", value: target }],
          duration: value(form, "duration") || "1h",
          comment: value(form, "comment"),
        },
        success: (silence) =>
          `Silenced ${name} ${target} until ${silence && silence.ends_at ? new Date(silence.ends_at).toLocaleString("en-GB") : "its end"}.`,
      };
    },
  );
  return form;
}
