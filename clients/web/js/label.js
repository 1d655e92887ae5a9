// A unit's label: the server renders it (GET /api/v1/labels/{hu_id}/svg, the QR code holding the
// unit's id), shown here and printed through the browser's print dialog. Printing records
// LabelPrinted the first time, LabelReprinted (with its reason) after, through the outbox.
import { h, put } from './dom.js';
import { t, fieldLabel } from './i18n.js';
import { apiFetch, ApiError } from './api.js';
import * as outbox from './outbox.js';

const REPRINT_REASONS = ['damaged', 'lost', 'unreadable', 'wrong_data', 'printer_error', 'other'];

export function labelPanel(huId) {
  const img = h('img.label-img', { alt: t('label.alt', { id: huId }), dataset: { testid: 'label-img' } });
  const msg = h('p.muted', { dataset: { testid: 'label-msg' } });
  const reason = h('select', { name: 'reprint_reason_code' }, REPRINT_REASONS.map((r) => h('option', { value: r }, t(`reprint.${r}`))));
  const reasonText = h('input', { name: 'reprint_reason', type: 'text', placeholder: fieldLabel('reason') });
  const reprintBox = h('div.reprint', { hidden: true }, h('label', t('label.reprint_reason'), reason), reasonText);
  let printed = false;
  const panel = h('div.label-panel', { dataset: { testid: 'label', hu: huId } },
    h('h3', t('label.title', { id: huId })), img, reprintBox,
    h('button.primary', { type: 'button', dataset: { testid: 'print' }, onclick: async () => {
      if (printed && !reasonText.value.trim()) {
        put(msg, t('label.reason_needed'));
        return;
      }
      const payload = printed
        ? { hu_id: huId, reason_code: reason.value, reason: reasonText.value.trim(), printer: 'browser', format: 'pdf' }
        : { hu_id: huId, printer: 'browser', format: 'pdf' };
      document.body.classList.add('printing-label');
      img.classList.add('print-me');
      try {
        window.print();
      } finally {
        document.body.classList.remove('printing-label');
        img.classList.remove('print-me');
      }
      await outbox.add(printed ? 'LabelReprinted' : 'LabelPrinted', payload);
      printed = true;
      reprintBox.hidden = false;
      put(msg, t('label.recorded'));
    } }, t('label.print')), msg);
  (async () => {
    try {
      const res = await apiFetch(`/api/v1/labels/${encodeURIComponent(huId)}/svg`, { headers: { Accept: 'image/svg+xml' } });
      if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => ({})));
      img.src = URL.createObjectURL(await res.blob());
      const state = await apiFetch(`/api/v1/labels/${encodeURIComponent(huId)}`, { headers: { Accept: 'application/json' } });
      printed = state.ok;
      reprintBox.hidden = !printed;
    } catch (e) {
      put(msg, e instanceof ApiError ? `${e.problem.code || e.status}: ${e.message}` : t('label.offline'));
    }
  })();
  return panel;
}
