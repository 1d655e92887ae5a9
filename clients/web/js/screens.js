// Curated screens around one record (a beam, a shipment, a non-conformity): its id typed or
// scanned, the record as foutad reads it (GET /api/v1/beams/{id}, /shipments/{id}, /ncs/{id})
// with its stream's events, and the forms of its steps (specs.js, the role's only) one at a
// time, the next step chosen from the record's state and filled in from it. The record is read
// again when one of its events gets its verdict.
import { h, put, qrIcon } from './dom.js';
import { t, fieldLabel } from './i18n.js';
import { getJson, getSession, ApiError } from './api.js';
import { fromMilli } from './uuid.js';
import { canScan, scanOnce, idFromCode } from './scan.js';
import { eventForm } from './forms.js';
import { specs } from './specs.js';
import * as outbox from './outbox.js';

const ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

function when(us) {
  return us ? new Date(us / 1000).toLocaleString() : '—';
}

// Sets a form's field from the record unless the user chose something of their own there (a
// list's first value is only a default).
function fill(form, name, value, force = false) {
  const el = form.elements.namedItem(name);
  if (!el || value === undefined || value === null) return;
  if (force || (el.dataset.auto !== '0' && (el.tagName === 'SELECT' || el.value.trim() === '' || el.dataset.auto === '1'))) {
    el.value = String(value);
    el.dataset.auto = '1';
  }
}

// cfg: {tab, idName, read(id) -> url, stream(id) -> stream name, steps: [types],
//       show(record, events) -> [[label, value]], next(record) -> type, fills(record, events) ->
//       {type: {field: value}}, extra?(record, events) -> node}
export function recordScreen(cleanup, cfg) {
  const role = getSession().role;
  const steps = cfg.steps.filter((type) => specs[type].roles.includes(role));
  const input = h('input', { name: `${cfg.tab}_id`, type: 'text', autocapitalize: 'characters', autocomplete: 'off', placeholder: t(`${cfg.tab}.placeholder`) });
  const panel = h('div.record', { dataset: { testid: 'record' } });
  const chooser = h('div.steps', { dataset: { testid: 'steps' } });
  const forms = new Map(steps.map((type) => [type, eventForm({ ...specs[type], type })]));
  const box = h('div', [...forms.values()]);
  let current = '';
  let record = null;
  let events = [];
  let showing = null;

  const choose = (type) => {
    showing = type;
    for (const [ty, form] of forms) form.hidden = ty !== type;
    chooser.querySelectorAll('button').forEach((b) => b.classList.toggle('on', b.dataset.step === type));
  };
  put(chooser, steps.map((type) => h('button.secondary', { type: 'button', dataset: { step: type }, onclick: () => choose(type) }, t(`ev.${type}`))));

  const load = async () => {
    const id = current;
    if (!ID_RE.test(id)) {
      put(panel);
      return;
    }
    for (const form of forms.values()) fill(form, cfg.idName, id, true);
    put(panel, h('p.muted', t('loading')));
    try {
      record = await getJson(cfg.read(id));
    } catch (e) {
      record = null;
      if (!(e instanceof ApiError && e.status === 404)) {
        put(panel, h('p.bad', e instanceof ApiError ? `${e.problem.code || e.status}: ${e.message}` : t('err.network')));
        return;
      }
    }
    events = [];
    try {
      if (record) events = (await getJson(`/api/v1/streams/${encodeURIComponent(cfg.stream(id))}?limit=200`)).events || [];
    } catch {
      /* the record without its history */
    }
    if (id !== current) return; // another id was asked meanwhile
    const rows = record ? cfg.show(record, events) : [];
    put(panel,
      record ? h('dl.hu', { dataset: { state: record.state ?? (record.mounted ? 'mounted' : 'unmounted') } },
        rows.map(([k, v, key]) => [h('dt', k), h('dd', { dataset: { k: key || '' } }, v ?? '—')]))
        : h('p.muted', { dataset: { state: 'new' } }, t(`${cfg.tab}.new`, { id })),
      record && cfg.extra ? cfg.extra(record, events) : null,
      events.length ? h('details', h('summary', t('record.history', { n: events.length })),
        h('ol.feed', events.map((e) => h('li', `#${e.seq} ${when(e.recorded_at_us)} ${t(`ev.${e.type}`)} · ${e.actor?.user || ''}`)))) : null);
    const fills = cfg.fills(record, events);
    for (const [type, values] of Object.entries(fills)) {
      const form = forms.get(type);
      if (form) for (const [k, v] of Object.entries(values)) fill(form, k, v);
    }
    const next = cfg.next(record, events);
    choose(steps.includes(next) ? next : showing && steps.includes(showing) ? showing : steps[0]);
  };

  const ask = (value) => {
    const id = idFromCode(value || '');
    input.value = id;
    if (id === current) return load();
    current = id;
    localStorage.setItem(`fouta.record.${cfg.tab}`, id);
    return load();
  };
  // A form's own id field typed in names the record too.
  for (const form of forms.values()) {
    form.addEventListener('input', (e) => (e.target.dataset.auto = '0'));
    form.addEventListener('change', (e) => (e.target.dataset.auto = '0'));
    form.addEventListener('submit', () => form.querySelectorAll('[data-auto]').forEach((el) => delete el.dataset.auto));
    form.elements.namedItem(cfg.idName)?.addEventListener('change', (e) => ask(e.target.value));
  }
  // Read again once an event of this record is recorded.
  const seen = new Set();
  cleanup.push(outbox.onChange((items) => {
    const done = items.filter((it) => steps.includes(it.type) && (it.state === 'accepted' || it.state === 'duplicate') && !seen.has(it.id));
    done.forEach((it) => seen.add(it.id));
    if (done.some((it) => it.payload[cfg.idName] === current)) load();
  }));
  outbox.list().then((items) => items.forEach((it) => it.state !== 'pending' && seen.add(it.id)));

  const scan = canScan() ? h('button.scan', { type: 'button', title: t('scan.button'), onclick: async () => {
    const c = await scanOnce();
    if (c) ask(c);
  } }, qrIcon()) : null;
  const last = localStorage.getItem(`fouta.record.${cfg.tab}`);
  if (last) setTimeout(() => ask(last));
  else choose(steps[0]);
  return h('section.view', { dataset: { screen: cfg.tab } }, h('h2', t(`tab.${cfg.tab}`)), h('p.doc', t(`${cfg.tab}.doc`)),
    h('form.inline', { onsubmit: (e) => { e.preventDefault(); ask(input.value); } }, input, scan, h('button.primary', { type: 'submit' }, t('lookup.go'))),
    panel, chooser, box);
}

// ---- warp beams: registered, mounted on a loom position, dismounted with the length left

export function beamsView(cleanup) {
  return recordScreen(cleanup, {
    tab: 'beams', idName: 'beam_id',
    read: (id) => `/api/v1/beams/${encodeURIComponent(id)}`,
    stream: (id) => `beam-${id}`,
    steps: ['BeamRegistered', 'BeamMounted', 'BeamDismounted'],
    show: (b) => [
      [fieldLabel('item'), b.item, 'item'],
      [fieldLabel('position'), t(`enum.${b.position}`), 'position'],
      [fieldLabel('loom_id'), b.mounted ? b.loom_id : t('beams.off'), 'loom'],
      [t('beams.left'), `${fromMilli(b.remaining_milli)} m`, 'remaining'],
    ],
    next: (b) => (!b ? 'BeamRegistered' : b.mounted ? 'BeamDismounted' : 'BeamMounted'),
    fills: (b) => (!b ? {} : {
      BeamMounted: { position: b.position, length_milli: fromMilli(b.remaining_milli) },
      BeamDismounted: { loom_id: b.loom_id, position: b.position },
    }),
  });
}

// ---- shipments: planned to a customer, loaded with released units, dispatched

function shipUnits(events) {
  const on = new Set();
  for (const e of events) {
    if (e.type === 'ShipmentLoaded') e.payload.hu_ids.forEach((x) => on.add(x));
    if (e.type === 'ShipmentUnloaded') e.payload.hu_ids.forEach((x) => on.delete(x));
  }
  return [...on];
}

export function shipmentsView(cleanup) {
  return recordScreen(cleanup, {
    tab: 'shipments', idName: 'ship_id',
    read: (id) => `/api/v1/shipments/${encodeURIComponent(id)}`,
    stream: (id) => `ship-${id}`,
    steps: ['ShipmentPlanned', 'ShipmentLoaded', 'ShipmentUnloaded', 'ShipmentDispatched'],
    show: (s, events) => {
      const plan = events.find((e) => e.type === 'ShipmentPlanned')?.payload || {};
      return [
        [fieldLabel('status'), t(`ship.${s.state}`), 'state'],
        [fieldLabel('customer_location_id'), s.customer_location_id, 'customer'],
        [fieldLabel('planned_at_us'), when(plan.planned_at_us)],
        [fieldLabel('customer_order_ref'), plan.customer_order_ref],
        [t('ship.units'), String(s.units_loaded), 'units'],
      ];
    },
    extra: (s, events) => {
      const units = shipUnits(events);
      return units.length ? h('p', { dataset: { testid: 'ship-units' } }, `${t('ship.on_it')} ${units.join(', ')}`) : null;
    },
    next: (s) => (!s ? 'ShipmentPlanned' : s.state === 'planned' ? (s.units_loaded > 0 ? 'ShipmentDispatched' : 'ShipmentLoaded') : null),
    fills: (s) => (!s ? {} : { ShipmentDispatched: { to_location_id: s.customer_location_id } }),
  });
}

// ---- non-conformities: opened, contained, corrective action, closed

const NC_NEXT = { open: 'ContainmentRecorded', contained: 'CorrectiveActionRecorded', 'with corrective action': 'NCClosed' };

export function ncsView(cleanup) {
  return recordScreen(cleanup, {
    tab: 'ncs', idName: 'nc_id',
    read: (id) => `/api/v1/ncs/${encodeURIComponent(id)}`,
    stream: (id) => `nc-${id}`,
    steps: ['NCOpened', 'ContainmentRecorded', 'CorrectiveActionRecorded', 'NCClosed'],
    show: (nc, events) => {
      const o = events.find((e) => e.type === 'NCOpened')?.payload || {};
      const ca = events.filter((e) => e.type === 'CorrectiveActionRecorded').pop()?.payload;
      return [
        [fieldLabel('status'), t(`nc.${nc.state}`), 'state'],
        [fieldLabel('title'), o.title],
        [fieldLabel('severity'), o.severity ? t(`enum.${o.severity}`) : null],
        [fieldLabel('source'), o.source ? t(`enum.${o.source}`) : null],
        [fieldLabel('hu_ids'), (o.hu_ids || []).join(', ')],
        [t('nc.containment'), events.filter((e) => e.type === 'ContainmentRecorded').map((e) => e.payload.action).join(' · ')],
        [fieldLabel('root_cause'), ca?.root_cause],
        [t('nc.action'), ca ? `${ca.action}${ca.owner_user_id ? ` (${ca.owner_user_id}, ${when(ca.due_at_us)})` : ''}` : null],
      ];
    },
    next: (nc) => (!nc ? 'NCOpened' : NC_NEXT[nc.state] || null),
    fills: (nc, events) => {
      const o = events.find((e) => e.type === 'NCOpened')?.payload;
      return o?.hu_ids ? { ContainmentRecorded: { hu_ids: o.hu_ids.join('\n') } } : {};
    },
  });
}

// ---- an inspection with its defect lines, and the 4-point score as they are typed

export function inspectionView() {
  const form = eventForm({ ...specs.InspectionRecorded, type: 'InspectionRecorded' });
  const score = h('p.summary', { dataset: { testid: 'points' } });
  const update = () => {
    let points = 0;
    for (let i = 0; ; i++) {
      const p = form.elements.namedItem(`defects.${i}.points`);
      if (!p) break;
      const id = form.elements.namedItem(`defects.${i}.defect_id`).value.trim();
      const n = Number(form.elements.namedItem(`defects.${i}.count`).value.trim());
      if (id && Number.isInteger(n) && n > 0) points += Number(p.value) * n;
    }
    const width = Number(form.elements.namedItem('width_mm').value.trim());
    const length = Number(form.elements.namedItem('inspected_length_milli').value.trim().replace(',', '.'));
    const per100 = width > 0 && length > 0 ? ((100000 * points) / (width * length)).toFixed(1) : null;
    score.dataset.points = String(points);
    score.textContent = per100 === null ? t('insp.points', { points }) : t('insp.points100', { points, per100 });
  };
  form.addEventListener('input', update);
  form.addEventListener('change', update);
  form.addEventListener('submit', () => setTimeout(update));
  form.querySelector('[data-field=defects]').after(score);
  update();
  return h('section.view', form);
}
