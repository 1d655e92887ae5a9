// Event forms from a declarative spec: each field names the payload field of docs/events.md, its
// kind, and whether it is required. Quantities are typed in units ("12,5") and posted in
// thousandths; unit ids are typed or scanned. Submitting puts the event in the outbox.
import { h, clear, put, qrIcon } from './dom.js';
import { t, fieldLabel, hasKey } from './i18n.js';
import { toMilli, fromMilli } from './uuid.js';
import { canScan, scanOnce, idFromCode } from './scan.js';
import * as outbox from './outbox.js';
import { verdictText } from './verdict.js';
import { labelPanel } from './label.js';

const ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

// The photos of a file field: [{sha256, type, data}] (SHA-256 made on the device, so the event
// names them before they are uploaded).
async function readPhotos(input, max) {
  const files = [...(input?.files || [])];
  if (files.length > max) throw new Error(t('err.photos_max', { n: max }));
  return Promise.all(files.map(async (file) => {
    const data = await file.arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
    return { sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''), type: file.type, data };
  }));
}

function remembered(type, name) {
  return localStorage.getItem(`fouta.last.${type}.${name}`) || '';
}
function remember(type, name, value) {
  localStorage.setItem(`fouta.last.${type}.${name}`, value);
}

function scanButton(input, append) {
  if (!canScan()) return null;
  return h('button.scan', {
    type: 'button', title: t('scan.button'), 'aria-label': t('scan.button'),
    onclick: async () => {
      const code = await scanOnce();
      if (!code) return;
      const id = idFromCode(code);
      input.value = append && input.value.trim() ? `${input.value.trim()}\n${id}` : id;
      input.dispatchEvent(new Event('input'));
    },
  }, qrIcon());
}

// A payload value back to the text a field shows (correcting a refused event).
function asText(f, v) {
  if (v === undefined || v === null) return undefined;
  switch (f.kind) {
    case 'qty': return fromMilli(v);
    case 'hus': return v.join('\n');
    case 'time': {
      const d = new Date(v / 1000);
      return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
    }
    case 'photos': return undefined; // files cannot be set again: taken anew
    default: return String(v);
  }
}

function control(type, f, name, given) {
  const initial = asText(f, given);
  const value = initial ?? (f.remember ? remembered(type, name) : '') ?? '';
  const common = { name, id: `f-${type}-${name}`, required: !!f.required };
  switch (f.kind) {
    case 'enum': {
      const sel = h('select', common,
        f.required ? null : h('option', { value: '' }, '—'),
        f.values.map((v) => h('option', { value: v }, t(`enum.${v}`) === `enum.${v}` ? v : t(`enum.${v}`))));
      sel.value = value || f.default || (f.required ? f.values[0] : '');
      return sel;
    }
    case 'bool':
      return h('input', { ...common, type: 'checkbox', required: false, checked: value === 'true' || (!value && !!f.default) });
    case 'tribool': { // an optional yes/no: absent is not the same as false
      const sel = h('select', common, h('option', { value: '' }, '—'), h('option', { value: 'true' }, t('form.yes')), h('option', { value: 'false' }, t('form.no')));
      sel.value = value || '';
      return sel;
    }
    case 'time':
      return h('input', { ...common, type: 'datetime-local', value: value || '' });
    case 'photos': // taken with the camera or chosen; kept with the event until uploaded
      return h('input', { ...common, type: 'file', accept: 'image/jpeg,image/png', capture: 'environment', multiple: true });
    case 'hus':
      return h('textarea', { ...common, rows: 3, placeholder: t('hint.hus'), value });
    case 'text':
      return h('input', { ...common, type: 'text', value: value || f.default || '' });
    case 'int':
      return h('input', { ...common, type: 'text', inputMode: 'numeric', value: value || f.default || '' });
    case 'qty':
      return h('input', { ...common, type: 'text', inputMode: 'decimal', value: value || f.default || '' });
    default: // id, hu
      return h('input', { ...common, type: 'text', autocapitalize: 'characters', autocomplete: 'off', spellcheck: false, value: value || f.default || '' });
  }
}

function labelOf(f) {
  return hasKey(`field.${f.name}`) || !f.doc ? fieldLabel(f.name) : `${f.doc} (${f.name})`;
}

function fieldRow(type, f, name, initial) {
  const input = control(type, f, name, initial);
  const unit = f.unit ? h('span.unit', f.unit) : null;
  const scan = f.kind === 'hu' || f.kind === 'hus' ? scanButton(input, f.kind === 'hus') : null;
  const label = f.kind === 'bool'
    ? h('label.check', { for: input.id }, input, labelOf(f))
    : h('label', { for: input.id }, labelOf(f), f.required ? ' *' : '');
  return h('div.field', { dataset: { field: name } },
    label, f.kind === 'bool' ? null : h('div.input-line', input, unit, scan),
    h('div.error', { 'aria-live': 'polite' }));
}

// Reads one field: returns [value, error] (value undefined when absent).
function readField(form, f, name) {
  const el = form.elements.namedItem(name);
  if (!el) return [undefined, null];
  if (f.kind === 'bool') return [el.checked, null];
  const raw = el.value.trim();
  if (raw === '') return [undefined, f.required ? t('err.required') : null];
  switch (f.kind) {
    case 'qty': {
      const v = toMilli(raw);
      if (v === null) return [undefined, t('err.qty')];
      if (!f.signed && v < 0) return [undefined, t('err.qty')];
      return [v, null];
    }
    case 'int':
      return (f.signed ? /^-?\d{1,15}$/ : /^\d{1,15}$/).test(raw) ? [Number(raw), null] : [undefined, t('err.int')];
    case 'tribool':
      return [raw === 'true', null];
    case 'enum': // numbers in a list (4-point penalties) are posted as numbers
      return [typeof f.values[0] === 'number' ? Number(raw) : raw, null];
    case 'time': {
      const ms = new Date(raw).getTime();
      return Number.isFinite(ms) ? [ms * 1000, null] : [undefined, t('err.time')];
    }
    case 'hus': {
      const ids = raw.split(/[\s,;]+/).filter(Boolean).map(idFromCode);
      const bad = ids.find((x) => !ID_RE.test(x));
      return bad ? [undefined, t('err.id', { id: bad })] : [ids, null];
    }
    case 'id':
    case 'hu': {
      const id = f.kind === 'hu' ? idFromCode(raw) : raw;
      return ID_RE.test(id) ? [id, null] : [undefined, t('err.id', { id })];
    }
    default:
      return [raw, null];
  }
}

// spec: {type, title, fields: [{name, kind, required, remember, unit, values, rows: [...]}],
//        prefill?: {name: value}, after?: (item) => void}
export function eventForm(spec) {
  const { type } = spec;
  const rowsBox = {};
  let unwatch = null;
  const form = h('form.event-form', { dataset: { type }, novalidate: true });
  const status = h('div.form-status', { 'aria-live': 'polite', dataset: { role: 'status' } });
  const labelBox = h('div.label-box');

  const addRow = (f, box, initial = {}) => {
    const i = box.children.length;
    box.append(h('fieldset.row', { dataset: { index: i } },
      h('legend', `${labelOf(f)} ${i + 1}`),
      f.rows.map((sub) => fieldRow(type, sub, `${f.name}.${i}.${sub.name}`, initial[sub.name]))));
  };

  const body = spec.fields.map((f) => {
    if (f.kind !== 'rows') return fieldRow(type, f, f.name, spec.prefill?.[f.name]);
    const box = h('div.rows');
    rowsBox[f.name] = box;
    const given = spec.prefill?.[f.name] || [];
    for (let i = 0; i < Math.max(f.min || 1, given.length); i++) addRow(f, box, given[i]);
    return h('div.field.rows-field', { dataset: { field: f.name } },
      h('label', labelOf(f)), box,
      h('button.secondary', { type: 'button', dataset: { add: f.name }, onclick: () => addRow(f, box) }, t('form.add_row')),
      h('div.error'));
  });

  form.append(h('h2', t(spec.title)), spec.doc ? h('p.doc', t(spec.doc)) : '', ...body,
    h('button.primary', { type: 'submit' }, t('form.submit')), status, labelBox);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const payload = {};
    const blobs = [];
    let ok = true;
    form.querySelectorAll('.error').forEach((e) => (e.textContent = ''));
    const setErr = (name, msg) => {
      ok = false;
      const box = form.querySelector(`[data-field="${CSS.escape(name)}"] .error`);
      if (box) box.textContent = msg;
    };
    for (const f of spec.fields) {
      if (f.kind === 'photos') {
        try {
          const photos = await readPhotos(form.elements.namedItem(f.name), f.max || 10);
          if (photos.length) {
            payload[f.name] = photos.map((p) => ({ sha256: p.sha256 }));
            blobs.push(...photos);
          } else if (f.required) setErr(f.name, t('err.required'));
        } catch (e) {
          setErr(f.name, e.message);
        }
        continue;
      }
      if (f.kind === 'rows') {
        const rows = [];
        const box = rowsBox[f.name];
        for (let i = 0; i < box.children.length; i++) {
          const row = {};
          let empty = true;
          for (const sub of f.rows) {
            const el = form.elements.namedItem(`${f.name}.${i}.${sub.name}`);
            if (el && sub.kind !== 'enum' && el.value.trim() !== '') empty = false;
          }
          if (empty) continue; // a row left blank is not sent
          for (const sub of f.rows) {
            const [v, err] = readField(form, sub, `${f.name}.${i}.${sub.name}`);
            if (err) setErr(`${f.name}.${i}.${sub.name}`, err);
            else if (v !== undefined) row[sub.name] = v;
          }
          rows.push(row);
        }
        if (rows.length) payload[f.name] = rows;
        else if (f.empty) payload[f.name] = []; // required, and none is an answer (no defect)
        else if (f.required) setErr(f.name, t('err.required'));
        continue;
      }
      const [v, err] = readField(form, f, f.name);
      if (err) setErr(f.name, err);
      else if (v !== undefined) payload[f.name] = v;
    }
    if (ok && spec.check) {
      const msg = spec.check(payload);
      if (msg) {
        ok = false;
        status.textContent = t(msg);
        status.className = 'form-status bad';
      }
    }
    if (!ok) return;
    for (const f of spec.fields) {
      const el = form.elements.namedItem(f.name);
      if (f.remember && el) remember(type, f.name, f.kind === 'bool' ? String(el.checked) : el.value.trim());
    }
    const item = await outbox.add(type, payload, blobs);
    status.dataset.id = item.id;
    status.dataset.state = item.state;
    status.className = 'form-status ok';
    delete labelBox.dataset.hu;
    put(labelBox);
    status.textContent = `${t('form.queued', { type: t(spec.title) })} ${verdictText(item)}`;
    // The verdict of the event just made, as the outbox gets it.
    unwatch?.();
    unwatch = outbox.onChange((items) => {
      const now = items.find((x) => x.id === item.id);
      if (!now || !status.isConnected) return;
      status.dataset.state = now.state;
      status.className = `form-status ${now.state === 'refused' ? 'bad' : 'ok'}`;
      status.textContent = `${t(spec.title)} — ${verdictText(now)}`;
      const hus = spec.label ? [].concat(spec.label(now.payload)) : [];
      if (hus.length && (now.state === 'accepted' || now.state === 'duplicate') && !labelBox.dataset.hu) {
        labelBox.dataset.hu = hus.join(' ');
        put(labelBox, hus.map(labelPanel));
      }
    });
    // Fields not remembered are cleared for the next declaration.
    for (const f of spec.fields) {
      if (f.kind === 'rows') {
        clear(rowsBox[f.name]);
        for (let i = 0; i < (f.min || 1); i++) addRow(f, rowsBox[f.name]);
      } else if (!f.remember && !f.keep) {
        const el = form.elements.namedItem(f.name);
        if (el && el.tagName !== 'SELECT' && el.type !== 'checkbox') el.value = ''; // files too
      }
    }
    spec.after?.(item);
  });
  return form;
}
