// Live notifications while the app is open, over the WebSocket: a mechanic sees breakdowns and
// stops on his looms, quality sees lots to inspect, a manager sees stops and urgent requests, a
// weaver sees his requests taken. Each shows as a toast and counts on the bell; the user's own
// events are not announced to him.
import { h } from './dom.js';
import { t } from './i18n.js';
import { subscribe } from './live.js';
import { getSession } from './api.js';

const myLooms = () => (localStorage.getItem('fouta.mylooms') || '').split(/[\s,;]+/).filter(Boolean);
const onMyLoom = (p) => !myLooms().length || myLooms().includes(p.loom_id);

// role -> {types, message(event) -> text or null}
const rules = {
  mechanic: {
    types: ['InterventionRequested', 'LoomStopped'],
    message: (e, p) => (e.type === 'InterventionRequested' && onMyLoom(p)
      ? t('notify.breakdown', { loom: p.loom_id, int: p.int_id, urgency: t(`enum.${p.urgency}`) })
      : e.type === 'LoomStopped' && ['mechanical', 'electrical'].includes(p.stop_class) && onMyLoom(p)
        ? t('notify.stop', { loom: p.loom_id, cls: t(`enum.${p.stop_class}`), code: p.reason_code }) : null),
  },
  quality: {
    types: ['CuttingDeclared', 'LotReturnedFromSubcontractor'],
    message: (e, p) => (e.type === 'CuttingDeclared'
      ? t('notify.inspect', { ids: p.outputs.map((o) => o.hu_id).join(', ') })
      : p.good_hu_id ? t('notify.inspect_sub', { id: p.good_hu_id, sub: p.sub_id }) : null),
  },
  manager: {
    types: ['LoomStopped', 'InterventionRequested', 'LotRejected'],
    message: (e, p) => (e.type === 'LoomStopped'
      ? t('notify.stop', { loom: p.loom_id, cls: t(`enum.${p.stop_class}`), code: p.reason_code })
      : e.type === 'InterventionRequested' ? (['high', 'critical'].includes(p.urgency) ? t('notify.breakdown', { loom: p.loom_id, int: p.int_id, urgency: t(`enum.${p.urgency}`) }) : null)
        : t('notify.rejected', { id: p.hu_id, reason: p.reason })),
  },
  weaver: {
    types: ['InterventionAcknowledged', 'InterventionCompleted'],
    message: (e, p) => t(e.type === 'InterventionAcknowledged' ? 'notify.acknowledged' : 'notify.completed', { int: p.int_id, loom: p.loom_id }),
  },
};
rules.admin = rules.manager;

let stop = null;
let count = 0;
let state = 'offline';

export function startNotifications(role) {
  stopNotifications();
  const rule = rules[role];
  if (!rule) return;
  stop = subscribe({
    types: rule.types,
    onEvent: (e) => {
      const s = getSession();
      if (!s || e.actor?.user === s.user) return;
      const text = rule.message(e, e.payload || {});
      if (text) show(text, e);
    },
    onState: (st) => {
      state = st;
      const b = document.querySelector('[data-testid=bell]');
      if (b) b.dataset.state = st;
    },
  });
}

export function stopNotifications() {
  stop?.();
  stop = null;
  count = 0;
  state = 'offline';
}

export function bell() {
  // A bell drawn in SVG (no emoji font needed).
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '18');
  svg.setAttribute('height', '18');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', 'M12 22a2.5 2.5 0 0 0 2.4-2h-4.8a2.5 2.5 0 0 0 2.4 2zm7-6V11a7 7 0 0 0-5.5-6.8V3a1.5 1.5 0 0 0-3 0v1.2A7 7 0 0 0 5 11v5l-2 2v1h18v-1z');
  path.setAttribute('fill', 'currentColor');
  svg.append(path);
  return h('span.bell', { dataset: { testid: 'bell', state }, title: t('notify.title') }, svg, h('span.count', String(count)));
}

function show(text, e) {
  count += 1;
  const b = document.querySelector('[data-testid=bell] .count');
  if (b) b.textContent = String(count);
  let box = document.querySelector('[data-testid=toasts]');
  if (!box) {
    box = h('ul.toasts', { dataset: { testid: 'toasts' }, 'aria-live': 'polite' });
    document.body.append(box);
  }
  const item = h('li.toast', { dataset: { seq: e.seq, type: e.type } }, text,
    h('button.link', { type: 'button', 'aria-label': t('scan.close'), onclick: () => item.remove() }, '×'));
  box.prepend(item);
  while (box.children.length > 5) box.lastChild.remove();
  setTimeout(() => item.remove(), 8000);
  if ('Notification' in window && Notification.permission === 'granted' && document.hidden) {
    try {
      new Notification('Fouta', { body: text, tag: `fouta-${e.seq}` });
    } catch {
      /* some browsers only notify from the service worker */
    }
  }
}
