// The app's shell: sign-in, then the signed-in role's tabs (hash routes #/<tab>), the outbox,
// the language switch and the network state. Registers the service worker (offline shell).
import { h, clear, put } from './dom.js';
import { t, setLang, getLang, languages } from './i18n.js';
import { login, logout, getSession, onSessionChange, ApiError } from './api.js';
import * as outbox from './outbox.js';
import { eventForm } from './forms.js';
import { specs, roleTabs } from './specs.js';
import { lookupView, interventionsView, boardView, stockView, kpisView, planningView, moreView, traceView, countView, ordersView } from './views.js';
import { fromMilli } from './uuid.js';
import { beamsView, shipmentsView, ncsView, inspectionView } from './screens.js';
import { qualityDesk, maintenanceDesk } from './desks.js';
import { usersView } from './users.js';
import { sparesView, pmView, purchasesView } from './upkeep.js';
import { verdictText } from './verdict.js';
import { startNotifications, stopNotifications, bell } from './notify.js';

const app = document.getElementById('app');
let cleanup = [];
let outboxItems = [];
let notifying = null; // the session the live notifications are for
let correcting = null; // {type, payload} of a refused event opened again in its form

// A refused event opened in its form, filled with what was sent: corrected, it is a new event
// (a new id); the refused one keeps its verdict.
function correct(item) {
  correcting = { type: item.type, payload: item.payload };
  const tabs = tabsOf(getSession().role);
  location.hash = `#/${tabs.includes(item.type) ? item.type : 'more'}`;
}
function takeCorrection(type) {
  const c = correcting && (!type || correcting.type === type) ? correcting : null;
  correcting = null;
  return c;
}

function tabsOf(role) {
  return [...(roleTabs[role] || ['lookup']), 'more', 'outbox'];
}

function tabLabel(tab) {
  return specs[tab] ? t(`ev.${tab}`) : t(`tab.${tab}`);
}

function header(s) {
  const langSel = h('select', { name: 'lang', 'aria-label': t('lang.label'), onchange: (e) => { setLang(e.target.value); render(); } },
    languages.map((l) => h('option', { value: l, selected: l === getLang() }, l.toUpperCase())));
  const net = h('span.net', { dataset: { testid: 'net', online: String(navigator.onLine) } }, navigator.onLine ? t('net.online') : t('net.offline'));
  return h('header.bar',
    h('span.brand', 'Fouta'),
    s ? h('span.who', { dataset: { testid: 'who' } }, `${s.user} · ${t(`role.${s.role}`)}`) : null,
    s ? bell() : null, net, langSel,
    s ? h('button.link', { type: 'button', dataset: { testid: 'logout' }, onclick: async () => { await logout(); location.hash = ''; } }, t('signout')) : null);
}

function signInView() {
  const err = h('p.bad', { 'aria-live': 'polite', dataset: { testid: 'login-error' } });
  const last = JSON.parse(localStorage.getItem('fouta.lastLogin') || '{}');
  const form = h('form.signin', { dataset: { testid: 'signin' } },
    h('h1', t('signin.title')),
    h('label', t('signin.tenant'), h('input', { name: 'tenant', required: true, autocomplete: 'organization', value: last.tenant || '' })),
    h('label', t('signin.user'), h('input', { name: 'user', required: true, autocomplete: 'username', autocapitalize: 'none', value: last.user || '' })),
    h('label', t('signin.password'), h('input', { name: 'password', type: 'password', required: true, autocomplete: 'current-password' })),
    h('button.primary', { type: 'submit' }, t('signin.go')), err);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = form.elements;
    err.textContent = '';
    try {
      await login(f.tenant.value.trim(), f.user.value.trim(), f.password.value);
      localStorage.setItem('fouta.lastLogin', JSON.stringify({ tenant: f.tenant.value.trim(), user: f.user.value.trim() }));
      location.hash = '';
      render();
      outbox.flush();
    } catch (ex) {
      err.textContent = ex instanceof ApiError ? (ex.status === 401 ? t('signin.refused') : `${ex.problem.code || ex.status}: ${ex.message}`) : t('err.network');
    }
  });
  return form;
}

function summary(item) {
  const p = item.payload;
  const id = p.hu_id || p.input_hu_id || p.carton_hu_id || p.sublot_id || p.int_id || p.beam_id || p.ship_id || p.nc_id || p.user_id || p.loom_id || '';
  const qty = p.qty_milli !== undefined ? ` · ${fromMilli(p.qty_milli)} ${p.unit || ''}` : '';
  return `${id}${qty}`;
}

function outboxView() {
  const list = h('ul.outbox', { dataset: { testid: 'outbox' } });
  const draw = (items) => {
    const mine = items.slice().reverse();
    put(list, mine.length ? mine.map((it) => h('li', { className: `ob ${it.state}`, dataset: { id: it.id, state: it.state, type: it.type } },
      h('div.ob-head', h('strong', t(`ev.${it.type}`)), h('span.ob-sum', summary(it))),
      h('div.ob-verdict', { dataset: { testid: 'verdict' } }, verdictText(it)),
      h('div.ob-meta', h('code', it.id), ` · ${new Date(it.created_us / 1000).toLocaleString(getLang())} · ${t('ob.attempts', { n: it.attempts })}`),
      h('div.ob-actions',
        h('button.secondary', { type: 'button', dataset: { action: 'resend' }, onclick: () => outbox.resend(it.id) }, t('ob.resend')),
        it.state === 'refused' ? h('button.secondary', { type: 'button', dataset: { action: 'correct' }, onclick: () => correct(it) }, t('ob.correct')) : null,
        it.state !== 'pending' ? h('button.link', { type: 'button', dataset: { action: 'forget' }, onclick: () => outbox.remove(it.id) }, t('ob.forget')) : null))) : h('li.muted', t('ob.empty')));
  };
  draw(outboxItems);
  cleanup.push(outbox.onChange(draw));
  return h('section.view', h('h2', t('tab.outbox')), h('p.doc', t('ob.doc')),
    h('button.primary', { type: 'button', dataset: { testid: 'send-now' }, onclick: () => outbox.flush() }, t('ob.send')), list);
}

function viewOf(tab) {
  if (specs[tab]) return h('section.view', eventForm({ ...specs[tab], type: tab, prefill: takeCorrection(tab)?.payload }));
  switch (tab) {
    case 'lookup': return lookupView();
    case 'interventions': return interventionsView(cleanup);
    case 'board': return boardView(cleanup);
    case 'stock': return stockView();
    case 'kpis': return kpisView();
    case 'planning': return planningView(['manager', 'admin'].includes(getSession().role));
    case 'more': {
      const c = takeCorrection();
      return moreView(getSession().role, c?.type, c?.payload);
    }
    case 'trace': return traceView();
    case 'count': return countView();
    case 'orders': return ordersView(cleanup, ['manager', 'admin'].includes(getSession().role));
    case 'beams': return beamsView(cleanup);
    case 'shipments': return shipmentsView(cleanup);
    case 'ncs': return ncsView(cleanup);
    case 'inspection': return inspectionView();
    case 'qdesk': return qualityDesk(cleanup);
    case 'mdesk': return maintenanceDesk(cleanup);
    case 'users': return usersView(cleanup);
    case 'spares': return sparesView(cleanup);
    case 'pm': return pmView(cleanup);
    case 'purchases': return purchasesView(cleanup);
    default: return outboxView();
  }
}

function pendingCount() {
  return outboxItems.filter((i) => i.state === 'pending').length;
}

function render() {
  cleanup.forEach((fn) => fn());
  cleanup = [];
  document.documentElement.lang = getLang();
  document.title = t('app.title');
  const s = getSession();
  clear(app);
  if (!s) {
    stopNotifications();
    notifying = null;
    app.append(header(null), h('main', signInView()));
    return;
  }
  if (notifying !== `${s.tenant}:${s.user}:${s.role}`) {
    notifying = `${s.tenant}:${s.user}:${s.role}`;
    startNotifications(s.role);
  }
  const tabs = tabsOf(s.role);
  const cur = tabs.includes(location.hash.slice(2)) ? location.hash.slice(2) : tabs[0];
  const nav = h('nav.tabs', tabs.map((tab) => h('a', { href: `#/${tab}`, className: tab === cur ? 'on' : '', dataset: { tab } },
    tabLabel(tab), tab === 'outbox' ? h('span.count', { dataset: { testid: 'pending' } }, String(pendingCount())) : null)));
  app.append(header(s), nav, h('main', { dataset: { role: s.role } }, viewOf(cur)));
}

outbox.onChange((items) => {
  outboxItems = items;
  const c = document.querySelector('[data-testid="pending"]');
  if (c) c.textContent = String(pendingCount());
});

function netChanged() {
  const n = document.querySelector('[data-testid="net"]');
  if (n) {
    n.dataset.online = String(navigator.onLine);
    n.textContent = navigator.onLine ? t('net.online') : t('net.offline');
  }
}
window.addEventListener('online', netChanged);
window.addEventListener('offline', netChanged);
window.addEventListener('hashchange', render);
onSessionChange((s) => { if (!s) render(); });

outboxItems = await outbox.list();
render();
outbox.start();

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch(() => {});
}
