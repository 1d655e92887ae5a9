// The views that read the ledger: a unit with its genealogy, the mechanic's interventions, and
// the manager's desktop (live loom board, stock, KPIs with a chart and a CSV export).
import { h, clear, put, qrIcon } from './dom.js';
import { t, fieldLabel } from './i18n.js';
import { apiFetch, getJson, ApiError } from './api.js';
import { fromMilli } from './uuid.js';
import { canScan, scanOnce, idFromCode } from './scan.js';
import { subscribe } from './live.js';
import { eventForm } from './forms.js';
import { specs } from './specs.js';
import * as outbox from './outbox.js';
import { verdictText } from './verdict.js';
import { loadSchemas, typesFor, specFor } from './catalog.js';

function problemText(e) {
  if (e instanceof ApiError) return `${e.problem.code || e.status}: ${e.message}`;
  return t('err.network');
}

function table(columns, rows, testid) {
  return h('div.table-wrap', h('table', { dataset: { testid } },
    h('thead', h('tr', columns.map((c) => h('th', c.label)))),
    h('tbody', rows.map((r) => h('tr', columns.map((c) => h('td', { className: c.num ? 'num' : '' }, c.value(r))))))));
}

// ---- a unit and its genealogy

export function lookupView(initial) {
  const input = h('input', { name: 'lookup_hu', type: 'text', placeholder: t('lookup.placeholder'), autocapitalize: 'characters', value: initial || '' });
  const out = h('div.lookup-result', { dataset: { testid: 'lookup-result' } });
  const go = async () => {
    const id = idFromCode(input.value);
    if (!id) return;
    put(out, h('p.muted', t('loading')));
    try {
      const [hu, down, up] = await Promise.all([
        getJson(`/api/v1/hus/${encodeURIComponent(id)}`),
        getJson(`/api/v1/hus/${encodeURIComponent(id)}/genealogy?direction=down&depth=8`),
        getJson(`/api/v1/hus/${encodeURIComponent(id)}/genealogy?direction=up&depth=8`),
      ]);
      put(out, 
        h('dl.hu', { dataset: { testid: 'hu' } },
          ['hu_id', 'status', 'item', 'location', 'grade', 'parent', 'holder'].map((k) => [h('dt', fieldLabel(k)), h('dd', { dataset: { k } }, hu[k] ?? '—')]),
          h('dt', fieldLabel('qty_milli')), h('dd', { dataset: { k: 'qty' } }, `${fromMilli(hu.qty_milli)} ${hu.unit || ''}`)),
        hu.contents?.length ? [h('h3', t('lookup.contents')), table([
          { label: fieldLabel('hu_id'), value: (c) => `${'· '.repeat(c.depth - 1)}${c.hu_id}` },
          { label: fieldLabel('item'), value: (c) => c.item },
          { label: fieldLabel('qty_milli'), value: (c) => fromMilli(c.qty_milli), num: true },
          { label: fieldLabel('status'), value: (c) => c.status },
        ], hu.contents, 'contents')] : null,
        h('h3', t('lookup.up')), genealogy(up, 'genealogy-up'),
        h('h3', t('lookup.down')), genealogy(down, 'genealogy-down'));
    } catch (e) {
      put(out, h('p.bad', problemText(e)));
    }
  };
  const scan = canScan() ? h('button.scan', { type: 'button', onclick: async () => {
    const c = await scanOnce();
    if (c) { input.value = idFromCode(c); go(); }
  } }, qrIcon()) : null;
  if (initial) setTimeout(go);
  return h('section.view', h('h2', t('tab.lookup')),
    h('form.inline', { onsubmit: (e) => { e.preventDefault(); go(); } }, input, scan, h('button.primary', { type: 'submit' }, t('lookup.go'))),
    out);
}

function genealogy(g, testid) {
  if (!g.links.length) return h('p.muted', { dataset: { testid } }, t('lookup.none'));
  return table([
    { label: t('gen.from'), value: (l) => `${'  '.repeat(l.depth - 1)}${l.from}` },
    { label: t('gen.kind'), value: (l) => l.kind },
    { label: t('gen.to'), value: (l) => l.to },
    { label: 'seq', value: (l) => l.seq, num: true },
  ], g.links, testid);
}

// ---- the mechanic: interventions on his looms, live

const INT_TYPES = ['InterventionRequested', 'InterventionAcknowledged', 'InterventionStarted', 'InterventionPaused', 'InterventionResumed', 'InterventionCompleted', 'InterventionCancelled'];
const INT_STATE = {
  InterventionRequested: 'requested', InterventionAcknowledged: 'acknowledged', InterventionStarted: 'started',
  InterventionPaused: 'paused', InterventionResumed: 'started', InterventionCompleted: 'completed', InterventionCancelled: 'cancelled',
};
const NEXT_STEP = { requested: 'InterventionAcknowledged', acknowledged: 'InterventionStarted', started: 'InterventionCompleted' };

export function interventionsView(cleanup) {
  const looms = h('input', { name: 'my_looms', type: 'text', value: localStorage.getItem('fouta.mylooms') || '', placeholder: 'L1, L2' });
  const list = h('div.cards', { dataset: { testid: 'interventions' } });
  const formBox = h('div');
  const live = h('span.badge', '…');
  const ints = new Map();
  const mine = () => looms.value.split(/[\s,;]+/).filter(Boolean);
  const fold = (ev) => {
    const p = ev.payload || {};
    const cur = ints.get(p.int_id) || { int_id: p.int_id, loom_id: p.loom_id };
    cur.state = INT_STATE[ev.type] || cur.state;
    if (ev.type === 'InterventionRequested') Object.assign(cur, { fault_class: p.fault_class, urgency: p.urgency, description: p.description });
    cur.seq = ev.seq;
    ints.set(p.int_id, cur);
  };
  const render = () => {
    const my = mine();
    const rows = [...ints.values()].filter((i) => !my.length || my.includes(i.loom_id)).sort((a, b) => b.seq - a.seq);
    put(list, rows.length ? rows.map((i) => h('div.card', { dataset: { int: i.int_id, state: i.state } },
      h('div.card-head', h('strong', i.int_id), h('span', `${fieldLabel('loom_id')} ${i.loom_id}`), h('span.badge', { className: `badge st-${i.state}` }, t(`int.${i.state}`))),
      i.fault_class ? h('div.muted', `${t(`enum.${i.fault_class}`)} · ${t(`enum.${i.urgency}`)}${i.description ? ' · ' + i.description : ''}`) : null,
      NEXT_STEP[i.state] ? h('button.primary', { type: 'button', dataset: { step: NEXT_STEP[i.state] }, onclick: () => {
        put(formBox, eventForm({ ...specs[NEXT_STEP[i.state]], type: NEXT_STEP[i.state], prefill: { int_id: i.int_id, loom_id: i.loom_id } }));
        formBox.scrollIntoView({ behavior: 'smooth' });
      } }, t(`ev.${NEXT_STEP[i.state]}`)) : null)) : h('p.muted', t('int.none')));
  };
  looms.addEventListener('change', () => { localStorage.setItem('fouta.mylooms', looms.value); render(); });
  (async () => {
    try {
      // The log up to its head, then live from the next sequence: no gap, nothing twice.
      let cursor = null;
      let next = 1;
      do {
        const page = await getJson(`/api/v1/events?type=${INT_TYPES.join(',')}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
        page.events.forEach(fold);
        cursor = page.next_cursor;
        next = page.head_seq + 1;
      } while (cursor);
      render();
      cleanup.push(subscribe({ types: INT_TYPES, from: next, onEvent: (ev) => { fold(ev); render(); }, onState: (s) => (live.textContent = t(`live.${s}`)) }));
    } catch (e) {
      put(list, h('p.bad', problemText(e)));
    }
  })();
  return h('section.view', h('h2', t('tab.interventions'), ' ', live),
    h('label', t('int.my_looms'), looms), list, formBox);
}

// ---- the manager: live loom board

const LOOM_TYPES = ['LoomStopped', 'LoomRestarted', 'OFStartedOnLoom', 'OFEndedOnLoom', 'BeamMounted', 'BeamDismounted', 'ProductionDeclared', 'LoomDefined', 'FirstPieceInspected'];

export function boardView(cleanup) {
  const grid = h('div.board', { dataset: { testid: 'board' } });
  const feed = h('ul.feed', { dataset: { testid: 'feed' } });
  const live = h('span.badge', { dataset: { testid: 'live' } }, '…');
  let timer = null;
  const load = async () => {
    try {
      const b = await getJson('/api/v1/looms');
      put(grid, h('p.summary', t('board.summary', { count: b.count, stopped: b.stopped })),
        b.looms.map((l) => h('div.loom', { className: `loom ${l.stopped ? 'stopped' : 'running'}`, dataset: { loom: l.loom_id, stopped: String(l.stopped) } },
          h('strong', l.loom_id),
          h('span.state', l.stopped ? `${t('board.stopped')} · ${t(`enum.${l.stop_class}`)} ${l.stop_code || ''}` : t('board.running')),
          h('span', `${fieldLabel('of_id')}: ${l.of_id || '—'}`),
          ['ground', 'pile'].map((p) => l.beams?.[p] ? h('span.beam', `${t(`beam.${p}`)} ${l.beams[p].beam_id}: ${fromMilli(l.beams[p].remaining_milli)} m`) : null))));
    } catch (e) {
      put(grid, h('p.bad', problemText(e)));
    }
  };
  load();
  cleanup.push(subscribe({
    types: LOOM_TYPES,
    onEvent: (ev) => {
      feed.prepend(h('li', `#${ev.seq} ${ev.type} ${ev.payload?.loom_id || ''}`));
      while (feed.children.length > 20) feed.lastChild.remove();
      clearTimeout(timer);
      timer = setTimeout(load, 150);
    },
    onState: (s) => { live.textContent = t(`live.${s}`); live.dataset.state = s; },
  }));
  return h('section.view.wide', h('h2', t('tab.board'), ' ', live), grid, h('h3', t('board.feed')), feed);
}

// ---- stock

export function stockView() {
  const f = {
    item: h('input', { name: 'item', placeholder: fieldLabel('item') }),
    location: h('input', { name: 'location', placeholder: fieldLabel('location') }),
    status: h('select', { name: 'status' }, h('option', { value: '' }, t('stock.any_status')),
      ['available', 'on hold', 'released', 'rejected', 'consumed', 'shipped'].map((s) => h('option', { value: s }, t(`status.${s}`)))),
    group_by: h('select', { name: 'group_by' }, h('option', { value: '' }, t('stock.no_group')),
      ['item', 'location', 'item,location', 'location,status'].map((g) => h('option', { value: g }, g))),
  };
  const out = h('div', { dataset: { testid: 'stock' } });
  const go = async () => {
    const q = new URLSearchParams();
    for (const [k, el] of Object.entries(f)) if (el.value.trim()) q.set(k, el.value.trim());
    try {
      const s = await getJson(`/api/v1/stock?${q}`);
      const keys = ['item', 'location', 'status', 'grade'].filter((k) => s.rows.some((r) => k in r));
      put(out, table([...keys.map((k) => ({ label: fieldLabel(k), value: (r) => r[k] ?? '' })),
        { label: t('stock.qty'), value: (r) => fromMilli(r.qty_milli), num: true }], s.rows, 'stock-rows'),
        s.truncated ? h('p.muted', t('stock.truncated')) : null);
    } catch (e) {
      put(out, h('p.bad', problemText(e)));
    }
  };
  go();
  return h('section.view.wide', h('h2', t('tab.stock')),
    h('form.inline', { onsubmit: (e) => { e.preventDefault(); go(); } }, Object.values(f), h('button.primary', { type: 'submit' }, t('stock.go'))), out);
}

// ---- KPIs: a table of every figure, a bar chart of one, the CSV of the same query

function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

export function kpisView() {
  const now = new Date();
  const from = h('input', { type: 'date', name: 'from', value: isoDay(new Date(now - 7 * 86400e3)) });
  const to = h('input', { type: 'date', name: 'to', value: isoDay(new Date(+now + 86400e3)) });
  const by = h('select', { name: 'by' }, ['total', 'loom', 'shift', 'weaver', 'article', 'order', 'beam', 'subcontractor'].map((b) => h('option', { value: b }, t(`by.${b}`))));
  by.value = 'loom';
  const figure = h('select', { name: 'figure' });
  const chart = h('div.chart', { dataset: { testid: 'chart' } });
  const out = h('div', { dataset: { testid: 'kpis' } });
  const csv = h('a.button.secondary', { dataset: { testid: 'csv' }, href: '#', download: 'kpis.csv' }, t('kpi.csv'));
  let data = null;
  const query = () => new URLSearchParams({ from: from.value, to: to.value, by: by.value });
  const numericKeys = (row) => Object.keys(row).filter((k) => typeof row[k] === 'number' || row[k] === null);
  const drawChart = () => {
    clear(chart);
    if (!data) return;
    const k = figure.value;
    const rows = data.slices.length ? data.slices : [{ key: '(total)', ...data.total }];
    const vals = rows.map((r) => (typeof r[k] === 'number' ? r[k] : 0));
    const max = Math.max(1, ...vals.map(Math.abs));
    const W = 600, bar = 22, gap = 6, left = 110;
    const svgNS = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(svgNS, 'svg');
    svg.setAttribute('viewBox', `0 0 ${W} ${rows.length * (bar + gap) + 10}`);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', k);
    rows.forEach((r, i) => {
      const y = 5 + i * (bar + gap);
      const w = Math.round(((W - left - 80) * Math.abs(vals[i])) / max);
      const label = document.createElementNS(svgNS, 'text');
      label.setAttribute('x', '0'); label.setAttribute('y', String(y + bar * 0.7));
      label.textContent = String(r.key ?? '(total)').slice(0, 16);
      const rect = document.createElementNS(svgNS, 'rect');
      rect.setAttribute('x', String(left)); rect.setAttribute('y', String(y));
      rect.setAttribute('width', String(w)); rect.setAttribute('height', String(bar));
      rect.setAttribute('class', 'bar');
      const v = document.createElementNS(svgNS, 'text');
      v.setAttribute('x', String(left + w + 4)); v.setAttribute('y', String(y + bar * 0.7));
      v.textContent = r[k] === null || r[k] === undefined ? '—' : String(r[k]);
      svg.append(label, rect, v);
    });
    chart.append(svg);
  };
  const go = async () => {
    put(out, h('p.muted', t('loading')));
    try {
      data = await getJson(`/api/v1/kpis?${query()}`);
      const sample = data.slices[0] || data.total || {};
      const keys = numericKeys(sample);
      const prev = figure.value;
      put(figure, keys.map((k) => h('option', { value: k }, k)));
      figure.value = keys.includes(prev) ? prev : (keys.find((k) => /efficiency|woven|pieces/.test(k)) || keys[0] || '');
      const rows = [...data.slices, { key: t('kpi.total'), ...data.total }];
      put(out, table([{ label: t(`by.${by.value}`), value: (r) => r.key ?? '' },
        ...keys.map((k) => ({ label: k, value: (r) => (r[k] === null || r[k] === undefined ? '—' : r[k]), num: true }))], rows, 'kpi-rows'));
      drawChart();
    } catch (e) {
      put(out, h('p.bad', problemText(e)));
    }
  };
  // The CSV is fetched with the token, then offered as a file.
  csv.addEventListener('click', async (e) => {
    if (csv.dataset.ready === '1') { csv.dataset.ready = ''; return; }
    e.preventDefault();
    try {
      const res = await apiFetch(`/api/v1/kpis?${query()}`, { headers: { Accept: 'text/csv' } });
      if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => ({})));
      const blob = new Blob([await res.text()], { type: 'text/csv' });
      if (csv.href.startsWith('blob:')) URL.revokeObjectURL(csv.href);
      csv.href = URL.createObjectURL(blob);
      csv.download = `kpis-${by.value}-${from.value}-${to.value}.csv`;
      csv.dataset.ready = '1';
      csv.click();
    } catch (err) {
      put(out, h('p.bad', problemText(err)));
    }
  });
  figure.addEventListener('change', drawChart);
  go();
  return h('section.view.wide', h('h2', t('tab.kpis')),
    h('form.inline', { onsubmit: (e) => { e.preventDefault(); go(); } },
      h('label', t('kpi.from'), from), h('label', t('kpi.to'), to), h('label', t('kpi.by'), by),
      h('button.primary', { type: 'submit' }, t('kpi.go')), csv),
    h('label', t('kpi.figure'), figure), chart, out);
}

// ---- the planning board: each loom's running and queued orders over time, with the expected
// finish, the beam-out and the due date (GET /api/v1/planning); ↑ ↓ reschedule an order in its
// loom's queue (OFAssignedToLoom with the neighbour's sequence, both ways, through the outbox).

function when(us) {
  return us > 0 ? new Date(us / 1000).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' }) : '—';
}

// canMove: the role may post OFAssignedToLoom (manager, admin).
export function planningView(canMove) {
  const chart = h('div.chart.gantt', { dataset: { testid: 'gantt' } });
  const out = h('div', { dataset: { testid: 'planning' } });
  const msg = h('p.muted', { 'aria-live': 'polite' });
  // Posts the new sequences of a loom's queue (only the orders whose place changed).
  const reorder = async (queue) => {
    const items = [];
    const places = queue.map((l) => l.sequence).sort((x, y) => x - y);
    for (const [i, l] of queue.entries()) {
      if (l.sequence !== places[i]) items.push(await outbox.add('OFAssignedToLoom', { of_id: l.of_id, loom_id: l.loom_id, sequence: places[i] }));
    }
    if (!items.length) return;
    await outbox.flush();
    const done = (await outbox.list()).filter((x) => items.some((i) => i.id === x.id));
    put(msg, done.map((x) => `${x.payload.of_id}: ${verdictText(x)}`).join(' · '));
    load();
  };
  // a takes b's place and b takes a's, in one loom's queue.
  const swap = (a, b, queue) => reorder(queue.map((l) => (l === a ? b : l === b ? a : l)));
  // Drag and drop a queued order onto another of the same loom: it takes that place.
  let dragged = null;
  const dnd = (table, lines) => {
    const rows = [...table.querySelectorAll('tbody tr')];
    rows.forEach((row, i) => {
      const l = lines[i];
      if (l.running || !canMove) return;
      row.draggable = true;
      row.dataset.of = l.of_id;
      row.addEventListener('dragstart', (e) => {
        dragged = l;
        e.dataTransfer.setData('text/plain', l.of_id);
        row.classList.add('dragging');
      });
      row.addEventListener('dragend', () => row.classList.remove('dragging'));
      row.addEventListener('dragover', (e) => {
        if (dragged && dragged !== l && dragged.loom_id === l.loom_id) e.preventDefault();
      });
      row.addEventListener('drop', (e) => {
        e.preventDefault();
        if (!dragged || dragged.loom_id !== l.loom_id) return;
        const queue = lines.filter((o) => o.loom_id === l.loom_id && !o.running && o !== dragged);
        queue.splice(queue.indexOf(l) + (lines.indexOf(dragged) < lines.indexOf(l) ? 1 : 0), 0, dragged);
        dragged = null;
        reorder(queue);
      });
    });
  };
  const draw = (lines) => {
    const now = Date.now() * 1000;
    // The scale ends with the last expected finish or beam-out (at least an hour, at most 60
    // days); a due date beyond it is in the table, not drawn.
    const ends = lines.flatMap((l) => [l.expected_finish_us, l.beam_out_us]).filter((x) => x > now);
    const end = Math.min(Math.max(now + 3600e6, ...ends) * 1.0, now + 60 * 86400e6);
    const inRange = (us) => us > now && us <= end;
    const looms = [...new Set(lines.map((l) => l.loom_id))];
    const W = 900, left = 70, row = 34, top = 22;
    const x = (us) => left + Math.max(0, Math.min(1, (us - now) / (end - now))) * (W - left - 10);
    const NS = 'http://www.w3.org/2000/svg';
    const el = (tag, attrs, text) => {
      const e = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
      if (text !== undefined) e.textContent = text;
      return e;
    };
    const svg = el('svg', { viewBox: `0 0 ${W} ${top + looms.length * row + 8}`, role: 'img', 'aria-label': t('tab.planning') });
    svg.append(el('text', { x: left, y: 14 }, when(now)), el('text', { x: W - 150, y: 14 }, when(end)));
    looms.forEach((loom, i) => {
      const y = top + i * row;
      svg.append(el('text', { x: 0, y: y + 20 }, loom));
      for (const l of lines.filter((l) => l.loom_id === loom)) {
        const x0 = x(l.expected_start_us || now), x1 = x(l.expected_finish_us || end);
        const bar = el('rect', { x: x0, y: y + 4, width: Math.max(2, x1 - x0), height: row - 10, class: `bar${l.running ? ' running' : ''}${l.late ? ' late' : ''}`, 'data-of': l.of_id });
        bar.append(el('title', {}, `${l.of_id} ${when(l.expected_start_us)} → ${when(l.expected_finish_us)}`));
        svg.append(bar, el('text', { x: x0 + 3, y: y + 20, class: 'bar-label' }, l.of_id));
        if (inRange(l.due_us)) svg.append(el('line', { x1: x(l.due_us), x2: x(l.due_us), y1: y + 2, y2: y + row - 4, class: 'due' }));
      }
      const beamOut = lines.find((l) => l.loom_id === loom && l.beam_out_us > 0);
      if (beamOut) svg.append(el('line', { x1: x(beamOut.beam_out_us), x2: x(beamOut.beam_out_us), y1: y, y2: y + row, class: 'beam-out' }));
    });
    put(chart, svg, h('p.legend.muted', t('plan.legend')));
    put(out, table([
      { label: fieldLabel('loom_id'), value: (l) => l.loom_id },
      { label: fieldLabel('of_id'), value: (l) => l.of_id },
      { label: fieldLabel('item_id'), value: (l) => l.item_id },
      { label: t('plan.state'), value: (l) => (l.running ? t('plan.running') : `${t('plan.queued')} ${l.sequence}`) },
      { label: t('plan.remaining'), value: (l) => fromMilli(l.remaining_milli), num: true },
      { label: t('plan.start'), value: (l) => when(l.expected_start_us) },
      { label: t('plan.finish'), value: (l) => when(l.expected_finish_us) },
      { label: t('plan.due'), value: (l) => when(l.due_us) },
      { label: t('plan.beam_out'), value: (l) => (l.beam_out_us > 0 ? `${when(l.beam_out_us)}${l.beam_out_before_end ? ' ⚠' : ''}` : '—') },
      { label: t('plan.flags'), value: (l) => [l.late ? t('plan.late') : '', l.beam_out_before_end ? t('plan.beam_first') : ''].filter(Boolean).join(', ') },
      { label: '', value: (l) => {
        if (l.running || !canMove) return '';
        const queue = lines.filter((o) => o.loom_id === l.loom_id && !o.running);
        const i = queue.indexOf(l);
        return h('span.moves',
          i > 0 ? h('button.secondary', { type: 'button', title: t('plan.up'), dataset: { move: 'up', of: l.of_id }, onclick: () => swap(l, queue[i - 1], queue) }, '↑') : null,
          i < queue.length - 1 ? h('button.secondary', { type: 'button', title: t('plan.down'), dataset: { move: 'down', of: l.of_id }, onclick: () => swap(l, queue[i + 1], queue) }, '↓') : null);
      } },
    ], lines, 'plan-rows'));
    dnd(out.querySelector('table'), lines);
  };
  const load = async () => {
    try {
      draw((await getJson('/api/v1/planning')).lines);
    } catch (e) {
      put(out, h('p.bad', problemText(e)));
    }
  };
  load();
  return h('section.view.wide', h('h2', t('tab.planning')), chart, msg, out);
}

// ---- every other type the role may post, as a form made from the catalog's schema

export function moreView(role, initialType, prefill) {
  const select = h('select', { name: 'more_type' });
  const box = h('div');
  const show = async (schemas) => {
    const type = select.value;
    if (!type) return put(box);
    localStorage.setItem(`fouta.more.${role}`, type);
    put(box, eventForm({ ...specFor(type, schemas[type]), prefill: type === initialType ? prefill : undefined }));
  };
  (async () => {
    try {
      const schemas = await loadSchemas();
      const types = typesFor(schemas, role);
      put(select, h('option', { value: '' }, t('more.choose')), types.map((ty) => h('option', { value: ty }, t(`ev.${ty}`) === ty ? ty : `${t(`ev.${ty}`)} (${ty})`)));
      select.dataset.count = String(types.length);
      const last = initialType || localStorage.getItem(`fouta.more.${role}`);
      if (last && types.includes(last)) select.value = last;
      select.onchange = () => show(schemas);
      show(schemas);
    } catch (e) {
      put(box, h('p.bad', problemText(e)));
    }
  })();
  return h('section.view', h('h2', t('tab.more')), h('p.doc', t('more.doc')), h('label', t('more.type'), select), box);
}

// ---- traceability: the recall picture (GET /api/v1/trace/{entity}, GET /api/v1/recall) as a
// layered graph, the units it reaches as a table, and that list as CSV for the customers' recall.

const STATUS_CLASS = { 'on hold': 'hold', rejected: 'bad', shipped: 'shipped', consumed: 'consumed', released: 'ok' };

function graphSvg(doc, roots) {
  const NS = 'http://www.w3.org/2000/svg';
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  // Layers: breadth first from the roots over the edges either way.
  const adj = new Map();
  for (const e of doc.edges) {
    for (const [a, b] of [[e.from, e.to], [e.to, e.from]]) {
      if (!adj.has(a)) adj.set(a, []);
      adj.get(a).push(b);
    }
  }
  const layer = new Map();
  const queue = roots.filter((r) => doc.nodes.some((n) => n.id === r));
  if (!queue.length && doc.nodes.length) queue.push(doc.nodes[0].id);
  queue.forEach((r) => layer.set(r, 0));
  while (queue.length) {
    const n = queue.shift();
    for (const m of adj.get(n) || []) if (!layer.has(m)) { layer.set(m, layer.get(n) + 1); queue.push(m); }
  }
  for (const n of doc.nodes) if (!layer.has(n.id)) layer.set(n.id, 0);
  const cols = new Map();
  for (const n of doc.nodes) {
    const l = layer.get(n.id);
    if (!cols.has(l)) cols.set(l, []);
    cols.get(l).push(n);
  }
  const W = 150, H = 46, GX = 40, GY = 12;
  const pos = new Map();
  let rows = 0;
  for (const [l, nodes] of cols) {
    nodes.forEach((n, i) => pos.set(n.id, { x: 5 + l * (W + GX), y: 5 + i * (H + GY) }));
    rows = Math.max(rows, nodes.length);
  }
  const width = 10 + cols.size * (W + GX), height = 10 + rows * (H + GY);
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': t('tab.trace') });
  for (const e of doc.edges) {
    const a = pos.get(e.from), b = pos.get(e.to);
    if (!a || !b) continue;
    const line = el('line', { x1: a.x + W, y1: a.y + H / 2, x2: b.x, y2: b.y + H / 2, class: 'edge' });
    line.append(el('title', {}, `${e.kind} #${e.seq}`));
    svg.append(line);
  }
  for (const n of doc.nodes) {
    const p = pos.get(n.id);
    const g = el('g', { class: `node ${n.item ? STATUS_CLASS[n.status] || '' : 'entity'}`, 'data-node': n.id });
    g.append(el('rect', { x: p.x, y: p.y, width: W, height: H, rx: 6 }),
      el('text', { x: p.x + 6, y: p.y + 17, class: 'node-id' }, n.id.replace(/^hu-/, '')),
      el('text', { x: p.x + 6, y: p.y + 35 }, n.item ? `${n.item} · ${fromMilli(n.qty_milli)} ${n.unit} · ${n.status}` : n.kind));
    svg.append(g);
  }
  return svg;
}

export function traceView() {
  const mode = h('select', { name: 'trace_mode' }, h('option', { value: 'trace' }, t('trace.trace')), h('option', { value: 'recall' }, t('trace.recall')));
  const entity = h('input', { name: 'trace_entity', placeholder: 'hu-Y-WARP, loom-L1, beam-BM1…', autocapitalize: 'none' });
  const direction = h('select', { name: 'trace_direction' }, h('option', { value: 'down' }, t('trace.down')), h('option', { value: 'up' }, t('trace.up')));
  const from = h('input', { type: 'date', name: 'trace_from' });
  const until = h('input', { type: 'date', name: 'trace_until' });
  const pic = h('div.graph', { dataset: { testid: 'trace-graph' } });
  const out = h('div', { dataset: { testid: 'trace' } });
  const csv = h('a.button.secondary', { hidden: true, dataset: { testid: 'trace-csv' }, download: 'recall.csv' }, t('trace.csv'));
  const go = async () => {
    const src = entity.value.trim();
    if (!src) return;
    put(out, h('p.muted', t('loading')));
    try {
      const q = new URLSearchParams();
      let url;
      if (mode.value === 'trace') {
        q.set('direction', direction.value);
        q.set('depth', '16');
        url = `/api/v1/trace/${encodeURIComponent(src)}?${q}`;
      } else {
        q.set('source', src);
        if (from.value) q.set('from_us', String(new Date(from.value).getTime() * 1000));
        if (until.value) q.set('until_us', String(new Date(until.value).getTime() * 1000 + 86400e6));
        url = `/api/v1/recall?${q}`;
      }
      const doc = await getJson(url);
      const units = doc.nodes.filter((n) => n.item);
      const roots = mode.value === 'trace' ? [src] : doc.nodes.filter((n) => !doc.edges.some((e) => e.to === n.id)).map((n) => n.id);
      put(pic, graphSvg(doc, roots));
      put(out, h('p.summary', t('trace.summary', { units: units.length, shipped: units.filter((u) => u.status === 'shipped').length, held: units.filter((u) => u.status === 'on hold').length })),
        doc.truncated ? h('p.bad', t('trace.truncated')) : null,
        table([
          { label: fieldLabel('hu_id'), value: (n) => n.id.replace(/^hu-/, '') },
          { label: fieldLabel('item'), value: (n) => n.item },
          { label: fieldLabel('qty_milli'), value: (n) => `${fromMilli(n.qty_milli)} ${n.unit}`, num: true },
          { label: fieldLabel('status'), value: (n) => n.status },
          { label: fieldLabel('location'), value: (n) => n.location },
          { label: fieldLabel('parent'), value: (n) => n.container || '' },
        ], units, 'trace-units'));
      const lines = ['hu_id,item,qty,unit,status,location,container',
        ...units.map((n) => [n.id.replace(/^hu-/, ''), n.item, fromMilli(n.qty_milli), n.unit, n.status, n.location, n.container || ''].join(','))];
      if (csv.href?.startsWith('blob:')) URL.revokeObjectURL(csv.href);
      csv.href = URL.createObjectURL(new Blob([lines.join('\n') + '\n'], { type: 'text/csv' }));
      csv.download = `recall-${src}.csv`;
      csv.hidden = false;
    } catch (e) {
      put(pic);
      put(out, h('p.bad', problemText(e)));
    }
  };
  const sync = () => {
    direction.parentElement.hidden = mode.value !== 'trace';
    from.parentElement.hidden = until.parentElement.hidden = mode.value !== 'recall';
  };
  mode.addEventListener('change', sync);
  const form = h('form.inline', { onsubmit: (e) => { e.preventDefault(); go(); } },
    h('label', t('trace.mode'), mode), h('label', t('trace.source'), entity), h('label', t('trace.direction'), direction),
    h('label', t('kpi.from'), from), h('label', t('kpi.to'), until), h('button.primary', { type: 'submit' }, t('lookup.go')), csv);
  sync();
  return h('section.view.wide', h('h2', t('tab.trace')), h('p.doc', t('trace.doc')), form, pic, out);
}

// ---- a stock count on the floor: open it, count units one after another (each unit read when
// scanned or typed fills its item and unit, and its book quantity unless the count is blind),
// close it. The reconciliation is the desk's (GET /api/v1/counts/{id}/report).

export function countView() {
  const open = eventForm({ ...specs.CountOpened, type: 'CountOpened' });
  const counted = eventForm({ ...specs.ItemCounted, type: 'ItemCounted' });
  const close = eventForm({ ...specs.CountClosed, type: 'CountClosed' });
  const book = h('p.muted', { dataset: { testid: 'book' } });
  const hu = counted.elements.namedItem('hu_id');
  hu.closest('.field').after(book);
  const fill = async () => {
    const id = idFromCode(hu.value);
    put(book);
    if (!id) return;
    try {
      const unit = await getJson(`/api/v1/hus/${encodeURIComponent(id)}`);
      counted.elements.namedItem('item_id').value = unit.item;
      if (unit.unit) counted.elements.namedItem('unit').value = unit.unit;
      const blind = open.elements.namedItem('blind')?.value === 'true';
      put(book, blind ? t('count.blind') : t('count.book', { qty: fromMilli(unit.qty_milli), unit: unit.unit, location: unit.location }));
      counted.elements.namedItem('counted_qty_milli').focus();
    } catch (e) {
      put(book, e instanceof ApiError && e.status === 404 ? t('count.unknown') : t('count.offline'));
    }
  };
  hu.addEventListener('change', fill);
  counted.addEventListener('submit', () => setTimeout(() => put(book))); // the next unit
  hu.addEventListener('input', () => {
    if (document.activeElement !== hu) fill(); // a scan fills the field without focus
  });
  return h('section.view', h('h2', t('tab.count')), open, counted, close);
}

// ---- the order board: every production order with its state and progress (the orders from
// the log's OFCreated, each read by GET /api/v1/orders/{id}), live; a manager releases and
// closes from here (through the outbox).

const OF_TYPES = ['OFCreated', 'OFReleased', 'OFStartedOnLoom', 'OFEndedOnLoom', 'OFClosed', 'OFCancelled', 'OFRescheduled', 'OFQuantityRevised', 'ProductionDeclared'];

export function ordersView(cleanup, canAct) {
  const out = h('div', { dataset: { testid: 'orders' } });
  const msg = h('p.muted', { 'aria-live': 'polite' });
  const plans = new Map(); // of_id -> {due_at_us, priority}
  let next = 1;
  let timer = null;
  const act = async (type, of) => {
    const item = await outbox.add(type, { of_id: of });
    await outbox.flush();
    const done = (await outbox.list()).find((x) => x.id === item.id);
    put(msg, `${of}: ${t(`ev.${type}`)} — ${verdictText(done || item)}`);
    load();
  };
  const fold = (e) => {
    const p = e.payload || {};
    if (e.type === 'OFCreated') plans.set(p.of_id, { due_at_us: p.due_at_us, priority: p.priority });
    if (e.type === 'OFRescheduled' && plans.has(p.of_id)) Object.assign(plans.get(p.of_id), { due_at_us: p.due_at_us, ...(p.priority ? { priority: p.priority } : {}) });
  };
  const draw = (orders) => {
    const now = Date.now() * 1000;
    put(out, table([
      { label: fieldLabel('of_id'), value: (o) => o.of_id },
      { label: fieldLabel('item'), value: (o) => o.item },
      { label: fieldLabel('status'), value: (o) => h('span', { className: `badge st-${o.state.replace(' ', '-')}`, dataset: { state: o.state } }, t(`of.${o.state}`)) },
      { label: t('of.progress'), value: (o) => h('span.progress', h('meter', { min: 0, max: 1000, value: Math.min(1000, o.progress_permille) }), ` ${fromMilli(o.declared_milli)} / ${fromMilli(o.planned_milli)} ${o.unit}`) },
      { label: fieldLabel('due_at_us'), value: (o) => `${when(o.due_at_us)}${o.due_at_us < now && !['closed', 'cancelled'].includes(o.state) ? ` ⚠ ${t('plan.late')}` : ''}` },
      { label: fieldLabel('priority'), value: (o) => o.priority ?? '', num: true },
      { label: '', value: (o) => (canAct ? h('span.moves',
        o.state === 'created' ? h('button.secondary', { type: 'button', dataset: { act: 'OFReleased', of: o.of_id }, onclick: () => act('OFReleased', o.of_id) }, t('of.release')) : null,
        ['released', 'in progress'].includes(o.state) ? h('button.secondary', { type: 'button', dataset: { act: 'OFClosed', of: o.of_id }, onclick: () => act('OFClosed', o.of_id) }, t('of.close')) : null) : '') },
    ], orders, 'order-rows'));
  };
  const load = async () => {
    try {
      let cursor = null;
      do {
        const page = await getJson(`/api/v1/events?type=OFCreated,OFRescheduled&from_seq=${next}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
        page.events.forEach(fold);
        cursor = page.next_cursor;
        if (!cursor) next = page.head_seq + 1;
      } while (cursor);
      const ids = [...plans.keys()].slice(-200); // the latest 200 orders
      const orders = await Promise.all(ids.map(async (id) => ({ ...(await getJson(`/api/v1/orders/${encodeURIComponent(id)}`)), ...plans.get(id) })));
      orders.sort((a, b) => (['closed', 'cancelled'].includes(a.state) - ['closed', 'cancelled'].includes(b.state)) || a.due_at_us - b.due_at_us);
      draw(orders);
    } catch (e) {
      put(out, h('p.bad', problemText(e)));
    }
  };
  load();
  cleanup.push(subscribe({ types: OF_TYPES, onEvent: () => { clearTimeout(timer); timer = setTimeout(load, 200); } }));
  return h('section.view.wide', h('h2', t('tab.orders')), msg, out);
}
