// The desktops of quality and maintenance: lists read from the log by type (GET /api/v1/events)
// and the records' own reads, kept live over the WebSocket (each event of their types reads
// the lists again, debounced). Quality: open non-conformities, recent inspections, units on
// hold. Maintenance: interventions across all looms with their state and durations, stopped
// looms.
import { h, put } from './dom.js';
import { t, fieldLabel } from './i18n.js';
import { getJson, ApiError } from './api.js';
import { fromMilli } from './uuid.js';
import { subscribe } from './live.js';

const LIST_MAX = 200; // rows a list shows (the latest)
const READS_MAX = 200; // record reads per refresh

export function problemText(e) {
  return e instanceof ApiError ? `${e.problem.code || e.status}: ${e.message}` : t('err.network');
}

export function table(columns, rows, testid, key) {
  if (!rows.length) return h('p.muted', { dataset: { testid } }, t('desk.none'));
  return h('div.table-wrap', h('table', { dataset: { testid } },
    h('thead', h('tr', columns.map((c) => h('th', c.label)))),
    h('tbody', rows.map((r) => h('tr', { dataset: { key: key(r) } }, columns.map((c) => h('td', { className: c.num ? 'num' : '' }, c.value(r))))))));
}

export function when(us) {
  return us ? new Date(us / 1000).toLocaleString() : '—';
}

// A duration in microseconds as minutes, or hours and minutes.
export function duration(us) {
  if (us === null || us === undefined || us < 0) return '—';
  const min = Math.round(us / 60e6);
  return min < 60 ? `${min} min` : `${Math.floor(min / 60)} h ${String(min % 60).padStart(2, '0')}`;
}

// Every event of the types from sequence `from` on, page by page: calls fold on each and
// returns the next sequence to read.
export async function readLog(types, from, fold) {
  let cursor = null;
  let next = from;
  do {
    const page = await getJson(`/api/v1/events?type=${types.join(',')}&from_seq=${from}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    page.events.forEach(fold);
    cursor = page.next_cursor;
    if (!cursor) next = page.head_seq + 1;
  } while (cursor);
  return next;
}

// A desk: folds the log of `types`, then draws; again on each event of them (live).
export function desk(cleanup, { types, fold, draw, title, testid }) {
  const out = h('div.desk', { dataset: { testid } });
  const live = h('span.badge', { dataset: { testid: 'live' } }, '…');
  let next = 1;
  let timer = null;
  let busy = Promise.resolve();
  const load = () => {
    busy = busy.then(async () => {
      try {
        next = await readLog(types, next, fold);
        await draw(out);
      } catch (e) {
        put(out, h('p.bad', problemText(e)));
      }
    });
    return busy;
  };
  load();
  cleanup.push(subscribe({
    types,
    onEvent: () => { clearTimeout(timer); timer = setTimeout(load, 200); },
    onState: (s) => { live.textContent = t(`live.${s}`); live.dataset.state = s; },
  }));
  return h('section.view.wide', h('h2', t(title), ' ', live), out);
}

// ---- quality: open NCs, recent inspections, units on hold

const Q_TYPES = ['NCOpened', 'ContainmentRecorded', 'CorrectiveActionRecorded', 'NCClosed', 'InspectionRecorded', 'LotPutOnHold', 'LotReleased', 'LotRejected'];

function inspectionPoints(p) {
  const points = (p.defects || []).reduce((s, d) => s + d.points * d.count, 0);
  const per100 = p.width_mm > 0 && p.inspected_length_milli > 0
    ? ((100000 * points * 1000) / (p.width_mm * p.inspected_length_milli)).toFixed(1) : null;
  return { points, per100 };
}

export function qualityDesk(cleanup) {
  const ncs = new Map(); // nc_id -> {opened payload, opened_us}
  const inspections = []; // the latest LIST_MAX
  const holds = new Map(); // hu_id -> {reason, nc_id, since_us}
  const fold = (e) => {
    const p = e.payload || {};
    if (e.type === 'NCOpened') ncs.set(p.nc_id, { ...p, opened_us: e.recorded_at_us });
    if (e.type === 'NCClosed') ncs.delete(p.nc_id);
    if (e.type === 'InspectionRecorded') {
      inspections.unshift({ ...p, seq: e.seq, user: e.actor?.user, at_us: e.recorded_at_us });
      inspections.length = Math.min(inspections.length, LIST_MAX);
    }
    if (e.type === 'LotPutOnHold') {
      holds.delete(p.hu_id); // the latest hold last
      holds.set(p.hu_id, { hu_id: p.hu_id, reason: p.reason, nc_id: p.nc_id, since_us: e.recorded_at_us });
      if (holds.size > LIST_MAX) holds.delete(holds.keys().next().value);
    }
    if (e.type === 'LotReleased' || e.type === 'LotRejected') holds.delete(p.hu_id);
  };
  const draw = async (out) => {
    const open = [...ncs.values()].slice(-READS_MAX);
    const states = await Promise.all(open.map((n) => getJson(`/api/v1/ncs/${encodeURIComponent(n.nc_id)}`).then((r) => r.state, () => '?')));
    const held = [...holds.values()].slice(-READS_MAX).reverse();
    const units = await Promise.all(held.map((x) => getJson(`/api/v1/hus/${encodeURIComponent(x.hu_id)}`).catch(() => null)));
    const sev = { critical: 0, major: 1, minor: 2 };
    const ncRows = open.map((n, i) => ({ ...n, state: states[i] })).filter((n) => n.state !== 'closed')
      .sort((a, b) => sev[a.severity] - sev[b.severity] || a.opened_us - b.opened_us);
    const now = Date.now() * 1000;
    put(out,
      h('div.wide-cell', h('h3', t('desk.open_ncs', { n: ncRows.length })), table([
        { label: fieldLabel('nc_id'), value: (n) => n.nc_id },
        { label: fieldLabel('title'), value: (n) => n.title },
        { label: fieldLabel('severity'), value: (n) => h('span', { className: `badge sev-${n.severity}` }, t(`enum.${n.severity}`)) },
        { label: fieldLabel('source'), value: (n) => t(`enum.${n.source}`) },
        { label: fieldLabel('status'), value: (n) => h('span', { dataset: { state: n.state } }, t(`nc.${n.state}`)) },
        { label: t('desk.opened'), value: (n) => when(n.opened_us) },
        { label: t('desk.age'), value: (n) => duration(now - n.opened_us), num: true },
      ], ncRows, 'open-ncs', (n) => n.nc_id)),
      h('div', h('h3', t('desk.inspections')), table([
        { label: fieldLabel('hu_id'), value: (x) => x.hu_id },
        { label: fieldLabel('stage'), value: (x) => t(`enum.${x.stage}`) },
        { label: fieldLabel('defects'), value: (x) => (x.defects || []).map((d) => `${d.defect_id}×${d.count}`).join(', ') || '—' },
        { label: t('desk.points'), value: (x) => { const s = inspectionPoints(x); return s.per100 === null ? String(s.points) : `${s.points} (${s.per100}/100 m²)`; }, num: true },
        { label: t('desk.by'), value: (x) => x.user || '' },
        { label: t('desk.at'), value: (x) => when(x.at_us) },
      ], inspections.slice(0, 50), 'inspections', (x) => String(x.seq))),
      h('div', h('h3', t('desk.held')), table([
        { label: fieldLabel('hu_id'), value: (x) => x.hu_id },
        { label: fieldLabel('item'), value: (x) => x.unit?.item || '' },
        { label: fieldLabel('qty_milli'), value: (x) => (x.unit ? `${fromMilli(x.unit.qty_milli)} ${x.unit.unit || ''}` : ''), num: true },
        { label: fieldLabel('location'), value: (x) => x.unit?.location || '' },
        { label: fieldLabel('reason'), value: (x) => x.reason },
        { label: fieldLabel('nc_id'), value: (x) => x.nc_id || '' },
        { label: t('desk.since'), value: (x) => duration(now - x.since_us), num: true },
      ], held.map((x, i) => ({ ...x, unit: units[i] })).filter((x) => !x.unit || x.unit.status === 'on hold'), 'held', (x) => x.hu_id)));
  };
  return desk(cleanup, { types: Q_TYPES, fold, draw, title: 'tab.qdesk', testid: 'qdesk' });
}

// ---- maintenance: interventions across all looms, stopped looms

const M_TYPES = ['InterventionRequested', 'InterventionAcknowledged', 'InterventionStarted', 'InterventionPaused', 'InterventionResumed', 'InterventionCompleted', 'InterventionCancelled', 'LoomStopped', 'LoomRestarted'];
const STEP = {
  InterventionRequested: ['requested', 'requested_us'], InterventionAcknowledged: ['acknowledged', 'acknowledged_us'],
  InterventionStarted: ['started', 'started_us'], InterventionPaused: ['paused', null], InterventionResumed: ['started', null],
  InterventionCompleted: ['completed', 'ended_us'], InterventionCancelled: ['cancelled', 'ended_us'],
};

export function maintenanceDesk(cleanup) {
  const ints = new Map();
  const fold = (e) => {
    const step = STEP[e.type];
    if (!step) return;
    const p = e.payload || {};
    const cur = ints.get(p.int_id) || { int_id: p.int_id, loom_id: p.loom_id };
    cur.state = step[0];
    if (step[1] && !cur[step[1]]) cur[step[1]] = e.recorded_at_us;
    if (e.type === 'InterventionRequested') Object.assign(cur, { fault_class: p.fault_class, urgency: p.urgency, description: p.description });
    if (e.type === 'InterventionCompleted') cur.root_cause = p.root_cause;
    cur.by = e.type === 'InterventionRequested' ? cur.by : e.actor?.user;
    ints.delete(p.int_id); // the latest at the end
    ints.set(p.int_id, cur);
    if (ints.size > LIST_MAX * 5) ints.delete(ints.keys().next().value);
  };
  const draw = async (out) => {
    const board = await getJson('/api/v1/looms');
    const stopped = board.looms.filter((l) => l.stopped).slice(0, READS_MAX);
    const since = await Promise.all(stopped.map((l) => getJson(`/api/v1/events/${l.since_seq}`).then((e) => e.recorded_at_us, () => null)));
    const now = Date.now() * 1000;
    const openFirst = (i) => (['completed', 'cancelled'].includes(i.state) ? 1 : 0);
    const rows = [...ints.values()].reverse().sort((a, b) => openFirst(a) - openFirst(b)).slice(0, LIST_MAX);
    put(out,
      h('div.wide-cell', h('h3', t('desk.stopped', { n: stopped.length, count: board.count })), table([
        { label: fieldLabel('loom_id'), value: (l) => l.loom_id },
        { label: fieldLabel('stop_class'), value: (l) => t(`enum.${l.stop_class}`) },
        { label: fieldLabel('reason_code'), value: (l) => l.stop_code || '' },
        { label: fieldLabel('of_id'), value: (l) => l.of_id || '' },
        { label: t('desk.since'), value: (l) => (l.since_us ? duration(now - l.since_us) : '—'), num: true },
      ], stopped.map((l, i) => ({ ...l, since_us: since[i] })), 'stopped-looms', (l) => l.loom_id)),
      h('div.wide-cell', h('h3', t('desk.interventions')), table([
        { label: fieldLabel('int_id'), value: (i) => i.int_id },
        { label: fieldLabel('loom_id'), value: (i) => i.loom_id },
        { label: fieldLabel('status'), value: (i) => h('span', { className: `badge st-${i.state}`, dataset: { state: i.state } }, t(`int.${i.state}`)) },
        { label: fieldLabel('fault_class'), value: (i) => (i.fault_class ? t(`enum.${i.fault_class}`) : '') },
        { label: fieldLabel('urgency'), value: (i) => (i.urgency ? t(`enum.${i.urgency}`) : '') },
        { label: t('desk.requested'), value: (i) => when(i.requested_us) },
        { label: t('desk.response'), value: (i) => h('span', { dataset: { d: 'response' } }, i.requested_us ? duration((i.acknowledged_us || (i.state === 'requested' ? now : null)) - i.requested_us) : '—'), num: true },
        { label: t('desk.repair'), value: (i) => h('span', { dataset: { d: 'repair' } }, i.started_us ? duration((i.ended_us || now) - i.started_us) : '—'), num: true },
        { label: t('desk.total'), value: (i) => h('span', { dataset: { d: 'total' } }, i.requested_us ? duration((i.ended_us || now) - i.requested_us) : '—'), num: true },
        { label: fieldLabel('root_cause'), value: (i) => (i.root_cause ? t(`enum.${i.root_cause}`) : '') },
        { label: t('desk.by'), value: (i) => i.by || '' },
      ], rows, 'all-interventions', (i) => i.int_id)));
  };
  return desk(cleanup, { types: M_TYPES, fold, draw, title: 'tab.mdesk', testid: 'mdesk' });
}
