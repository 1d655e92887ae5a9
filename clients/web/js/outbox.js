// The offline outbox. Every event is made on the device with its id (UUIDv7) and kept in
// IndexedDB until the server gave a verdict: accepted (201, with its sequence), already
// recorded (200: the same id was recorded before; a retry never records twice) or refused
// (4xx, with the problem's code, field and detail). A network failure, a 5xx or a 429 leaves the
// event pending: it is sent again, with the same id, when the browser is back online, every
// 15 s, or by hand. Events are sent one at a time in the order they were made, and only with
// the token of the user who made them (the actor is the token's user).
import { uuidv7 } from './uuid.js';
import { apiFetch, getSession, problemOf } from './api.js';

const DB = 'fouta';
const STORE = 'outbox';
let dbPromise = null;
const listeners = new Set();
let flushing = null;

function db() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => {
        const s = req.result.createObjectStore(STORE, { keyPath: 'id' });
        s.createIndex('created', 'created_us');
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return dbPromise;
}

async function tx(mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const t = d.transaction(STORE, mode);
    const store = t.objectStore(STORE);
    const out = fn(store);
    t.oncomplete = () => resolve(out?.result ?? out);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

export async function list() {
  const items = await tx('readonly', (s) => s.getAll());
  return items.sort((a, b) => a.created_us - b.created_us);
}

async function put(item) {
  await tx('readwrite', (s) => s.put(item));
  notify();
}

export async function remove(id) {
  await tx('readwrite', (s) => s.delete(id));
  notify();
}

export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
async function notify() {
  const items = await list();
  for (const fn of listeners) fn(items);
}

// Makes the event and keeps it, with the photos it names ([{sha256, type, data}]); then tries to
// send. Returns the stored item.
export async function add(type, payload, blobs = []) {
  const s = getSession();
  const now = Date.now();
  const item = {
    id: uuidv7(now),
    type,
    payload,
    occurred_at_us: now * 1000,
    created_us: now * 1000,
    tenant: s?.tenant,
    user: s?.user,
    state: 'pending', // pending, accepted, duplicate, refused
    attempts: 0,
    verdict: null,
    blobs: blobs.map((b) => ({ ...b, uploaded: false })),
  };
  await put(item);
  flush();
  return item;
}

// Sends it again with the same id (the server answers "already recorded" if it has it).
export async function resend(id) {
  const item = (await list()).find((x) => x.id === id);
  if (!item) return;
  item.state = 'pending';
  await put(item);
  return flush();
}

export function envelope(item) {
  return { id: item.id, type: item.type, occurred_at_us: item.occurred_at_us, payload: item.payload };
}

// Uploads the event's photos not yet on the server (POST /api/v1/blobs: 201 stored, 200 it had
// them). Returns true when all are there, false to try later, or a problem that refuses them.
async function uploadBlobs(item) {
  for (const b of item.blobs || []) {
    if (b.uploaded) continue;
    let res;
    try {
      res = await apiFetch('/api/v1/blobs', { method: 'POST', headers: { 'Content-Type': b.type || 'application/octet-stream' }, body: b.data });
    } catch {
      return false;
    }
    if (res.status === 200 || res.status === 201) {
      b.uploaded = true;
      b.data = null; // the server has it: the device keeps the event only
      await put(item);
    } else if (res.status >= 500 || res.status === 429 || res.status === 401 || res.status === 408) {
      return false;
    } else {
      return { status: res.status, ...(await problemOf(res)), field: 'payload.photos' };
    }
  }
  return true;
}

async function sendOne(item) {
  const up = await uploadBlobs(item);
  if (up === false) return false;
  if (up !== true) {
    item.attempts += 1;
    item.state = 'refused';
    item.verdict = { status: up.status, code: up.code, field: up.field, detail: up.detail || up.title };
    await put(item);
    return true;
  }
  let res;
  try {
    res = await apiFetch('/api/v1/events', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(envelope(item)),
    });
  } catch (e) {
    return false; // offline or the server is away: stays pending
  }
  item.attempts += 1;
  item.last_try_us = Date.now() * 1000;
  if (res.status === 201 || res.status === 200) {
    const pos = await res.json();
    item.state = res.status === 201 ? 'accepted' : 'duplicate';
    item.verdict = { status: res.status, seq: pos.seq, stream: pos.stream };
  } else {
    const p = await problemOf(res);
    if (res.status >= 500 || res.status === 429 || res.status === 408 || res.status === 401) {
      item.verdict = { status: res.status, code: p.code, detail: p.detail || p.title, transient: true };
      await put(item);
      return false; // try later (401: signed out, sent after the next sign-in)
    }
    item.state = 'refused';
    item.verdict = { status: res.status, code: p.code, field: p.field, detail: p.detail || p.title };
  }
  await put(item);
  return true;
}

// Sends every pending event of the signed-in user, in order; stops at the first that could not
// reach the server. One flush at a time; a call during a flush runs another pass after it.
let again = false;
export function flush() {
  if (flushing) {
    again = true;
    return flushing;
  }
  flushing = (async () => {
    try {
      do {
        again = false;
        await flushOnce();
      } while (again);
    } finally {
      flushing = null; // in the same turn as the last check of again: no call is lost
    }
  })();
  return flushing;
}

async function flushOnce() {
  const s = getSession();
  if (!s || !navigator.onLine) return;
  for (const item of await list()) {
    if (item.state !== 'pending' || item.user !== s.user || item.tenant !== s.tenant) continue;
    if (!(await sendOne(item))) break;
  }
}

export function start() {
  window.addEventListener('online', () => flush());
  setInterval(() => flush(), 15000);
  flush();
}
