// A WebSocket subscription to the ledger (GET /api/v1/ws): the access token and the device id
// go in the query (a browser cannot set headers on it), reconnects from the last sequence + 1,
// so nothing is missed or repeated. onEvent gets each event record.
import { DEVICE, getSession, refresh } from './api.js';

export function subscribe({ types, onEvent, onState, from }) {
  let ws = null;
  let next = from ?? 'now';
  let closed = false;
  let delay = 500;
  const open = () => {
    const s = getSession();
    if (closed || !s) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = new URLSearchParams({ from_seq: String(next), access_token: s.access, device_id: DEVICE });
    if (types) q.set('types', types.join(','));
    ws = new WebSocket(`${proto}//${location.host}/api/v1/ws?${q}`);
    let opened = false;
    ws.onopen = () => {
      opened = true;
      delay = 500;
      onState?.('live');
    };
    ws.onmessage = (m) => {
      let msg;
      try {
        msg = JSON.parse(m.data);
      } catch {
        return;
      }
      if (msg.kind === 'event') {
        next = msg.event.seq + 1;
        onEvent(msg.event);
      } else if (msg.kind === 'heartbeat' && next === 'now') {
        next = msg.next_seq;
      }
    };
    ws.onclose = async () => {
      onState?.('offline');
      if (closed) return;
      if (!opened) {
        try {
          await refresh(); // the token may have expired
        } catch {
          /* offline */
        }
      }
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 15000);
    };
  };
  open();
  return () => {
    closed = true;
    ws?.close();
  };
}
