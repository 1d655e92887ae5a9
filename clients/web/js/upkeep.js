// Spare parts, preventive maintenance and purchase requests: lists folded from the log by type
// (GET /api/v1/events?type=..., as the desktops do: foutad has no read of its own for them),
// live over the WebSocket, with the forms of their steps filled in from the line chosen.
// Spare parts: the mechanic's own requests and their state; the open ones for the storekeeper,
// each issued from its line. Preventive maintenance: each loom's tasks, due or overdue, the last
// done, and one recorded done from its line. Purchases: the open requests, approved or rejected
// by the manager, and a form to ask.
import { h, put } from './dom.js';
import { t, fieldLabel } from './i18n.js';
import { getJson, getSession } from './api.js';
import { fromMilli } from './uuid.js';
import { eventForm } from './forms.js';
import { specs } from './specs.js';
import { desk, table, when, duration } from './desks.js';

const LIST_MAX = 200; // rows a list shows
const DAY_US = 24 * 3600 * 1e6;
const SOON_US = 7 * DAY_US; // a task due within a week is "due soon"

function may(type) {
  return specs[type].roles.includes(getSession().role);
}

// Sets the fields of a form from a line the user chose (an explicit choice: over what was typed).
function setForm(form, values) {
  for (const [k, v] of Object.entries(values)) {
    const el = form.elements.namedItem(k);
    if (el) el.value = v === undefined || v === null ? '' : String(v);
  }
  form.hidden = false;
  form.scrollIntoView?.({ block: 'nearest' });
}

// A new request's id, made on the device (typed over if the plant numbers them otherwise).
function newId(prefix) {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  return `${prefix}-${String(d.getFullYear()).slice(2)}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}
function askForm(type, prefix) {
  const form = eventForm({ ...specs[type], type, after: () => setTimeout(() => { idField.value ||= newId(prefix); }) });
  const idField = form.elements.namedItem('pr_id');
  idField.value = newId(prefix);
  return form;
}

function badge(kind, state) {
  return h('span', { className: `badge st-${state}`, dataset: { state } }, t(`${kind}.${state}`));
}

// ---- spare parts: requested by a mechanic, issued from stock by the raw-material store

export function sparesView(cleanup) {
  const me = getSession().user;
  const canIssue = may('SparePartIssued');
  const canAsk = may('SparePartRequested');
  const requests = new Map(); // pr_id -> request with issued_milli
  const fold = (e) => {
    const p = e.payload || {};
    if (e.type === 'SparePartRequested') {
      requests.delete(p.pr_id);
      requests.set(p.pr_id, { ...p, by: e.actor?.user, at_us: e.recorded_at_us, issued_milli: 0 });
      if (requests.size > LIST_MAX * 5) requests.delete(requests.keys().next().value);
    }
    if (e.type === 'SparePartIssued' && p.pr_id && requests.has(p.pr_id)) requests.get(p.pr_id).issued_milli += p.qty_milli;
  };
  const stateOf = (r) => (r.issued_milli <= 0 ? 'open' : r.issued_milli < r.qty_milli ? 'partial' : 'issued');
  const issue = canIssue ? eventForm({ ...specs.SparePartIssued, type: 'SparePartIssued' }) : null;
  if (issue) {
    issue.hidden = true;
    // The unit chosen names the store it leaves.
    let timer = null;
    issue.elements.namedItem('hu_id').addEventListener('input', (e) => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const id = e.target.value.trim();
        if (!id) return;
        const unit = await getJson(`/api/v1/hus/${encodeURIComponent(id)}`).catch(() => null);
        if (unit && e.target.value.trim() === id) issue.elements.namedItem('from_location_id').value = unit.location || '';
      }, 300);
    });
  }
  const draw = async (out) => {
    const all = [...requests.values()].reverse().map((r) => ({ ...r, state: stateOf(r) }));
    const rows = (canIssue ? all.filter((r) => r.state !== 'issued') : all.filter((r) => r.by === me)).slice(0, LIST_MAX);
    const urg = { critical: 0, high: 1, normal: 2, low: 3 };
    if (canIssue) rows.sort((a, b) => urg[a.urgency] - urg[b.urgency] || a.at_us - b.at_us);
    const now = Date.now() * 1000;
    put(out, h('div.wide-cell', h('h3', t(canIssue ? 'spare.open_list' : 'spare.mine', { n: rows.length })), table([
      { label: '', value: (r) => (canIssue && r.state !== 'issued' ? h('button.secondary', { type: 'button', dataset: { issue: r.pr_id }, onclick: () => setForm(issue, {
        pr_id: r.pr_id, item_id: r.item_id, qty_milli: fromMilli(r.qty_milli - r.issued_milli), loom_id: r.loom_id, int_id: r.int_id,
      }) }, t('spare.issue')) : '') },
      { label: fieldLabel('pr_id'), value: (r) => r.pr_id },
      { label: fieldLabel('item_id'), value: (r) => r.item_id },
      { label: fieldLabel('qty_milli'), value: (r) => h('span', { dataset: { k: 'qty' } }, `${fromMilli(r.issued_milli)} / ${fromMilli(r.qty_milli)}`), num: true },
      { label: fieldLabel('loom_id'), value: (r) => r.loom_id || '' },
      { label: fieldLabel('int_id'), value: (r) => r.int_id || '' },
      { label: fieldLabel('urgency'), value: (r) => t(`enum.${r.urgency}`) },
      { label: fieldLabel('status'), value: (r) => badge('spare', r.state) },
      { label: t('desk.by'), value: (r) => r.by || '' },
      { label: t('desk.since'), value: (r) => duration(now - r.at_us), num: true },
    ], rows, 'spare-requests', (r) => r.pr_id)));
  };
  const view = desk(cleanup, { types: ['SparePartRequested', 'SparePartIssued'], fold, draw, title: 'tab.spares', testid: 'spares' });
  view.append(issue || '', canAsk ? askForm('SparePartRequested', 'SP') : '');
  return view;
}

// ---- preventive maintenance: each loom's tasks, when due, the last done

// As the KPI of foutad counts them (projections/pg_kpi.c): a schedule sets the task's due date
// and interval; a completion takes the due occurrence and moves it on by the interval, or ends a
// task that does not repeat.
export function pmView(cleanup) {
  const canDo = may('PreventiveMaintenanceDone');
  const tasks = new Map(); // loom_id/task_code -> task
  const fold = (e) => {
    const p = e.payload || {};
    const key = `${p.loom_id}/${p.task_code}`;
    const cur = tasks.get(key) || { loom_id: p.loom_id, task_code: p.task_code, pending: false };
    if (e.type === 'PreventiveMaintenanceScheduled') {
      Object.assign(cur, { pending: true, due_us: p.due_at_us, every_us: (p.interval_days || 0) * DAY_US, interval_days: p.interval_days, description: p.description });
    } else if (e.type === 'PreventiveMaintenanceDone') {
      Object.assign(cur, { done_us: e.occurred_at_us || e.recorded_at_us, done_by: e.actor?.user, done_min: p.duration_min });
      if (cur.pending) {
        if (cur.every_us > 0) cur.due_us += cur.every_us;
        else cur.pending = false;
      }
    }
    tasks.set(key, cur);
  };
  const stateOf = (x, now) => (!x.pending ? 'done' : x.due_us < now ? 'overdue' : x.due_us < now + SOON_US ? 'due' : 'planned');
  const done = canDo ? eventForm({ ...specs.PreventiveMaintenanceDone, type: 'PreventiveMaintenanceDone' }) : null;
  if (done) done.hidden = true;
  const draw = async (out) => {
    const now = Date.now() * 1000;
    const order = { overdue: 0, due: 1, planned: 2, done: 3 };
    const rows = [...tasks.values()].map((x) => ({ ...x, state: stateOf(x, now) }))
      .sort((a, b) => a.loom_id.localeCompare(b.loom_id) || order[a.state] - order[b.state] || (a.due_us || 0) - (b.due_us || 0))
      .slice(0, LIST_MAX);
    const late = rows.filter((x) => x.state === 'overdue').length;
    put(out, h('div.wide-cell', h('h3', t('pm.plan', { n: rows.length, late })), table([
      { label: '', value: (x) => (canDo && x.pending ? h('button.secondary', { type: 'button', dataset: { done: `${x.loom_id}/${x.task_code}` }, onclick: () => setForm(done, {
        loom_id: x.loom_id, task_code: x.task_code,
      }) }, t('pm.record_done')) : '') },
      { label: fieldLabel('loom_id'), value: (x) => x.loom_id },
      { label: fieldLabel('task_code'), value: (x) => x.task_code },
      { label: fieldLabel('description'), value: (x) => x.description || '' },
      { label: t('pm.next_due'), value: (x) => h('span', { dataset: { k: 'due' } }, x.pending ? when(x.due_us) : '—') },
      { label: fieldLabel('interval_days'), value: (x) => (x.interval_days ? t('pm.every', { n: x.interval_days }) : t('pm.once')) },
      { label: fieldLabel('status'), value: (x) => badge('pm', x.state) },
      { label: t('pm.last_done'), value: (x) => h('span', { dataset: { k: 'done' } }, x.done_us ? `${when(x.done_us)} · ${x.done_min} min · ${x.done_by || ''}` : '—') },
    ], rows, 'pm-plan', (x) => `${x.loom_id}/${x.task_code}`)));
  };
  const view = desk(cleanup, { types: ['PreventiveMaintenanceScheduled', 'PreventiveMaintenanceDone'], fold, draw, title: 'tab.pm', testid: 'pm' });
  view.append(done || '', may('PreventiveMaintenanceScheduled') ? eventForm({ ...specs.PreventiveMaintenanceScheduled, type: 'PreventiveMaintenanceScheduled' }) : '');
  return view;
}

// ---- purchase requests: asked, approved or rejected

export function purchasesView(cleanup) {
  const canDecide = may('PurchaseRequestApproved');
  const prs = new Map();
  const fold = (e) => {
    const p = e.payload || {};
    if (e.type === 'PurchaseRequested') {
      prs.delete(p.pr_id);
      prs.set(p.pr_id, { ...p, by: e.actor?.user, at_us: e.recorded_at_us, state: 'open' });
      if (prs.size > LIST_MAX * 5) prs.delete(prs.keys().next().value);
    }
    const pr = prs.get(p.pr_id);
    if (!pr) return;
    if (e.type === 'PurchaseRequestApproved') Object.assign(pr, { state: 'approved', approved_qty_milli: p.approved_qty_milli, decided_by: e.actor?.user, decision: p.note });
    if (e.type === 'PurchaseRequestRejected') Object.assign(pr, { state: 'rejected', decided_by: e.actor?.user, decision: p.reason });
  };
  const approve = canDecide ? eventForm({ ...specs.PurchaseRequestApproved, type: 'PurchaseRequestApproved' }) : null;
  const reject = canDecide ? eventForm({ ...specs.PurchaseRequestRejected, type: 'PurchaseRequestRejected' }) : null;
  const chosen = h('h3');
  const decide = h('div', { hidden: true, dataset: { testid: 'decide' } }, chosen, approve, reject);
  const pick = (pr) => {
    chosen.textContent = t('pr.decide', { id: pr.pr_id, what: pr.description, qty: `${fromMilli(pr.qty_milli)} ${pr.unit}` });
    setForm(approve, { pr_id: pr.pr_id });
    setForm(reject, { pr_id: pr.pr_id });
    decide.hidden = false;
  };
  const columns = (withButton) => [
    ...(withButton ? [{ label: '', value: (r) => h('button.secondary', { type: 'button', dataset: { decide: r.pr_id }, onclick: () => pick(r) }, t('pr.decide_button')) }] : []),
    { label: fieldLabel('pr_id'), value: (r) => r.pr_id },
    { label: fieldLabel('description'), value: (r) => r.description },
    { label: fieldLabel('item_id'), value: (r) => r.item_id || '' },
    { label: fieldLabel('qty_milli'), value: (r) => `${fromMilli(r.qty_milli)} ${r.unit}${r.approved_qty_milli ? ` (${t('pr.approved_qty', { qty: fromMilli(r.approved_qty_milli) })})` : ''}`, num: true },
    { label: fieldLabel('urgency'), value: (r) => t(`enum.${r.urgency}`) },
    { label: fieldLabel('needed_by_us'), value: (r) => (r.needed_by_us ? when(r.needed_by_us) : '') },
    { label: fieldLabel('reason'), value: (r) => r.reason || '' },
    { label: t('desk.by'), value: (r) => r.by || '' },
    { label: fieldLabel('status'), value: (r) => badge('prs', r.state) },
    { label: t('pr.decision'), value: (r) => (r.decided_by ? `${r.decided_by}${r.decision ? `: ${r.decision}` : ''}` : '') },
  ];
  const draw = async (out) => {
    const all = [...prs.values()].reverse();
    const urg = { critical: 0, high: 1, normal: 2, low: 3 };
    const open = all.filter((r) => r.state === 'open').sort((a, b) => urg[a.urgency] - urg[b.urgency] || a.at_us - b.at_us).slice(0, LIST_MAX);
    const decided = all.filter((r) => r.state !== 'open').slice(0, 50);
    put(out,
      h('div.wide-cell', h('h3', t('pr.open', { n: open.length })), table(columns(canDecide), open, 'pr-open', (r) => r.pr_id)),
      h('div.wide-cell', h('h3', t('pr.decided')), table(columns(false), decided, 'pr-decided', (r) => r.pr_id)));
  };
  const view = desk(cleanup, { types: ['PurchaseRequested', 'PurchaseRequestApproved', 'PurchaseRequestRejected'], fold, draw, title: 'tab.purchases', testid: 'purchases' });
  view.append(decide, may('PurchaseRequested') ? askForm('PurchaseRequested', 'PR') : '');
  return view;
}
