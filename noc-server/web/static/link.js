// The one WebSocket to /ws/alerts: connecting, the dead-link watchdog and
// the backoff between attempts. It knows nothing of alerts: every frame
// goes to `onMessage`, every change of the link to `onState`.

/** The server's heartbeat until its first snapshot says otherwise. */
const DEFAULT_HEARTBEAT_MS = 30000;
/** A link silent for this many heartbeats is dead (the protocol's rule). */
const SILENT_HEARTBEATS = 3;
/** How long an attempt may take to bring its first message. */
const CONNECT_TIMEOUT_MS = 10000;
/** Backoff between attempts: 0.5–1 s, 1–2 s, … up to 15–30 s. */
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30000;
/** A link up this long has proved itself: the next failure starts over. */
const STABLE_LINK_MS = 10000;

/**
 * Starts the link and returns its handle: `send(message)`, `live()` (a
 * snapshot arrived: arms the watchdog for `heartbeatMs`), and the fields
 * `state` ("connecting", "live", "down") and `retryAt`.
 */
export function startLink(url, onMessage, onState) {
  const link = {
    state: "connecting",
    retryAt: null,
    heartbeatMs: DEFAULT_HEARTBEAT_MS,
    send,
    live,
  };
  /** The socket in use; a replaced or abandoned one is ignored. */
  let socket = null;
  let watchdog = null;
  let retryTimer = null;
  let failures = 0;
  let liveSince = null;

  function connect() {
    clearTimeout(retryTimer);
    link.retryAt = null;
    let ws;
    try {
      ws = new WebSocket(url());
    } catch (err) {
      console.error("cannot open the alert stream:", err);
      down();
      return;
    }
    socket = ws;
    arm(CONNECT_TIMEOUT_MS);
    ws.onmessage = (event) => {
      if (ws !== socket) return;
      // Anything at all proves the link alive, heartbeats included.
      arm(link.heartbeatMs * SILENT_HEARTBEATS);
      onMessage(event.data);
    };
    ws.onclose = (event) => {
      if (ws !== socket) return;
      console.info(`alert stream closed (${event.code} ${event.reason})`);
      socket = null;
      down();
    };
    // An error is always followed by close, which does the work.
    ws.onerror = () => {};
  }

  /** (Re)starts the dead-link timer: silence past `ms` drops the link. */
  function arm(ms) {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      const dead = socket;
      if (!dead) return;
      console.warn(`no word from the server for ${ms} ms; reconnecting`);
      // Abandon it first: a dead peer may never complete the close, and
      // its late close event must not count as a second failure.
      socket = null;
      dead.close();
      down();
    }, ms);
  }

  function down() {
    clearTimeout(watchdog);
    if (liveSince !== null && Date.now() - liveSince >= STABLE_LINK_MS) failures = 0;
    liveSince = null;
    link.state = "down";
    const delay = nextDelay();
    link.retryAt = Date.now() + delay;
    retryTimer = setTimeout(connect, delay);
    onState();
  }

  /** Exponential backoff with jitter, so that a wall of screens does not
   *  reconnect in lockstep after a server restart. */
  function nextDelay() {
    const factor = 2 ** Math.min(failures + 1, 20);
    const high = Math.min(BACKOFF_MIN_MS * factor, BACKOFF_MAX_MS);
    const low = Math.min(Math.max(high / 2, BACKOFF_MIN_MS), high);
    failures += 1;
    return low + Math.random() * (high - low);
  }

  function live(heartbeatMs) {
    link.heartbeatMs = heartbeatMs > 0 ? heartbeatMs : DEFAULT_HEARTBEAT_MS;
    if (link.state !== "live") liveSince = Date.now();
    link.state = "live";
    arm(link.heartbeatMs * SILENT_HEARTBEATS);
    onState();
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
    }
  }

  // After the caller holds the handle, which onState may read.
  setTimeout(connect, 0);
  return link;
}
