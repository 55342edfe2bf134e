// The operator's token and the REST calls made with it.
//
// The token comes from `?token=` (a kiosk's address) or from the sign-in
// box, which keeps it in this tab's sessionStorage: never in the address,
// never in a cookie. It travels as `Authorization: Bearer`.

const STORAGE_KEY = "noc.token";
const query = new URLSearchParams(location.search);

/** The token in force and where it came from ("address", "sign-in"), or
 *  `{ token: null }`. */
export function currentToken() {
  const fromQuery = query.get("token");
  if (fromQuery) return { token: fromQuery, from: "address" };
  let stored = null;
  try {
    stored = sessionStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage refused (a locked-down kiosk profile): no sign-in then.
  }
  return stored ? { token: stored, from: "sign-in" } : { token: null, from: null };
}

export function signIn(token) {
  sessionStorage.setItem(STORAGE_KEY, token);
}

export function signOut() {
  sessionStorage.removeItem(STORAGE_KEY);
}

/**
 * One call to the API, relative to the page (so that a proxy prefix
 * works). Resolves to `{ ok, status, data, error }`, where `error` is a
 * sentence for a person: the server's own words where it gave them.
 */
export async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  const { token } = currentToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(new URL(path, location.href), init);
  } catch (err) {
    return { ok: false, status: 0, data: null, error: `Could not reach the server (${err.message}).` };
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // An empty or non-JSON answer: the status says enough.
  }
  if (response.ok) return { ok: true, status: response.status, data, error: null };
  const said = (data && typeof data.error === "string" ? data.error : response.statusText).replace(/\.$/, "");
  const hint =
    response.status === 401
      ? " Sign in with a user token."
      : response.status === 403
        ? " This token may only view."
        : "";
  return {
    ok: false,
    status: response.status,
    data,
    error: `The server refused (${response.status}): ${said}.${hint}`,
  };
}

/** The API path of one alert, with its id escaped. */
export function alertPath(id, tail) {
  return `api/v1/alerts/${encodeURIComponent(id)}${tail || ""}`;
}
