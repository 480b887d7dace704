// api.js — the JSON API of the same origin (/api/v1), the token, and the
// errors the pages tell apart: the API did not answer (Unreachable), or it
// answered with an error status (ApiError).

const BASE = '/api/v1';
const TOKEN_KEY = 'gale.token';
const TIMEOUT_MS = 8000;

/** ApiError: the API answered with an error status. */
export class ApiError extends Error {
  constructor(status, message, details) {
    super(message);
    this.status = status;
    this.details = details || [];
  }
}

/** Unreachable: no answer from the API (network error or timeout). */
export class Unreachable extends Error {}

/** base: where the API is, for messages. */
export function apiBase() { return location.origin + BASE; }

export function getToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}

export function setToken(t) {
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: the token lives as long as the prompt */ }
}

async function call(method, path, body, token) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
  const headers = {Accept: 'application/json'};
  // a change must say it is JSON, bodiless or not: the API refuses other
  // types (a cross-site form cannot send this one)
  if (body !== undefined || method !== 'GET') headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = 'Bearer ' + token;
  let resp;
  try {
    resp = await fetch(BASE + path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      signal: ctl.signal, cache: 'no-store', credentials: 'same-origin'});
  } catch (e) {
    throw new Unreachable(ctl.signal.aborted ? `no answer within ${TIMEOUT_MS / 1000} s` : String(e.message || e));
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  const text = await resp.text().catch(() => '');
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!resp.ok) {
    // a proxy in front of a dead worker answers 502/504: that is unreachable too
    if ((resp.status === 502 || resp.status === 504) && !(data && data.error)) {
      throw new Unreachable(`HTTP ${resp.status} from a proxy`);
    }
    const msg = (data && data.error) || text.trim() || resp.statusText || 'error';
    throw new ApiError(resp.status, msg, data && data.details);
  }
  return data;
}

/**
 * get: GET a JSON resource under /api/v1, with the token when one is kept.
 * A worker off loopback needs the token for reads too: on 401 it asks for
 * it (one prompt for all the calls waiting), keeps it and retries; when the
 * user cancels, the 401 is thrown.
 */
export async function get(path) {
  for (;;) {
    const token = getToken();
    try {
      return await call('GET', path, undefined, token);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
      setToken('');
      const next = await sharedPrompt(token
        ? 'The token was refused (HTTP 401). Enter the cluster\'s API token.'
        : 'This cluster needs its API token to show anything (HTTP 401).');
      if (next === null) throw e;
      setToken(next);
    }
  }
}

let askToken = async () => null;
let pending = null;

/** sharedPrompt: one token prompt at a time; the calls that need it share its answer. */
function sharedPrompt(reason) {
  if (!pending) pending = askToken(reason).finally(() => { pending = null; });
  return pending;
}

/** onTokenNeeded sets the prompt that asks the user for the token: (reason) => Promise<string|null>. */
export function onTokenNeeded(fn) { askToken = fn; }

/**
 * post: a mutating call. When the server needs a token (info.auth_required)
 * and none is known, or when the call gets 401, it asks for one, keeps it
 * in sessionStorage, and retries. Returns null when the user cancels.
 */
export async function post(path, body, {authRequired = false} = {}) {
  let token = getToken();
  let reason = 'This action needs the cluster\'s API token.';
  if (authRequired && !token) {
    token = await askToken(reason);
    if (token === null) return null;
    setToken(token);
  }
  for (;;) {
    try {
      return await call('POST', path, body, token);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
      setToken('');
      reason = token ? 'The token was refused (HTTP 401). Enter the cluster\'s API token.' : 'The API asks for a token (HTTP 401).';
      token = await askToken(reason);
      if (token === null) return null;
      setToken(token);
    }
  }
}

/** enc: a path segment. */
export const enc = encodeURIComponent;
