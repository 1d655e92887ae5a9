// The session (tokens kept in localStorage) and fetch against foutad's /api/v1 with the access
// token; a 401 refreshes the tokens once (one refresh at a time: a refresh token rotates, and
// using the old one twice would revoke the whole family) and retries the request.
const KEY = 'fouta.session';

// This installation's device id, sent as X-Device-Id: the ledger records it in each event's
// actor (user, role, device), so an audit tells which phone posted what.
export const DEVICE = localStorage.getItem('fouta.device') || (() => {
  const id = `web-${[...crypto.getRandomValues(new Uint8Array(6))].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  localStorage.setItem('fouta.device', id);
  return id;
})();
let session = JSON.parse(localStorage.getItem(KEY) || 'null');
let refreshing = null;
const listeners = new Set();

export function getSession() {
  return session;
}
export function onSessionChange(fn) {
  listeners.add(fn);
}
function save(next) {
  session = next;
  if (next) localStorage.setItem(KEY, JSON.stringify(next));
  else localStorage.removeItem(KEY);
  for (const fn of listeners) fn(session);
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

async function problemOf(res) {
  try {
    return await res.json();
  } catch {
    return { title: res.statusText };
  }
}

export async function login(tenant, user, password) {
  const res = await fetch('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    // Bound to this installation: the tokens then work only with its X-Device-Id (a token
    // copied off the phone is useless elsewhere), and the WebSocket names it in its query.
    body: JSON.stringify({ tenant, user, password, device: DEVICE }),
  });
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
  const s = await res.json();
  save({ tenant: s.tenant, user: s.user, role: s.role, access: s.access_token, refresh: s.refresh_token });
  return session;
}

export async function logout() {
  const s = session;
  save(null);
  if (s) {
    try {
      await fetch('/api/v1/auth/logout', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${s.access}` },
        body: JSON.stringify({ refresh_token: s.refresh }),
      });
    } catch {
      /* offline: the tokens are forgotten here anyway */
    }
  }
}

// Refreshes the tokens; resolves true, or false when the refresh token was refused (signed out).
export function refresh() {
  if (!refreshing) {
    const s = session;
    refreshing = (async () => {
      if (!s) return false;
      const res = await fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: s.refresh, device: DEVICE }),
      });
      if (res.status === 401 || res.status === 400) {
        save(null);
        return false;
      }
      if (!res.ok) throw new ApiError(res.status, await problemOf(res));
      const n = await res.json();
      save({ ...s, access: n.access_token, refresh: n.refresh_token });
      return true;
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

// fetch with the token; network errors throw TypeError as fetch does.
export async function apiFetch(path, opts = {}) {
  for (let attempt = 0; ; attempt++) {
    if (!session) throw new ApiError(401, { code: 'UNAUTHORIZED', detail: 'signed out' });
    const headers = { ...(opts.headers || {}), Authorization: `Bearer ${session.access}`, 'X-Device-Id': DEVICE };
    const res = await fetch(path, { ...opts, headers });
    if (res.status !== 401 || attempt > 0) return res;
    if (!(await refresh())) return res;
  }
}

// GET returning JSON, or throwing ApiError with the problem.
export async function getJson(path) {
  const res = await apiFetch(path, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
  return res.json();
}

export { problemOf };
