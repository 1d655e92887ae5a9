// A unit's label: the server renders it (GET /api/v1/labels/{hu_id}/svg, the QR code holding the
// unit's id), shown here and printed through the browser's print dialog or, where the browser
// has Web Bluetooth and a Bluetooth adapter, sent as ZPL (GET /api/v1/labels/{hu_id}/zpl) to a
// thermal printer over Bluetooth Low Energy. Printing records LabelPrinted the first time,
// LabelReprinted (with its reason) after, through the outbox, naming the printer and format.
import { h, put } from './dom.js';
import { t, fieldLabel } from './i18n.js';
import { apiFetch, ApiError } from './api.js';
import * as outbox from './outbox.js';

const REPRINT_REASONS = ['damaged', 'lost', 'unreadable', 'wrong_data', 'printer_error', 'other'];

// Zebra's BLE printers take ZPL through their "parser" service, written to its "to printer"
// characteristic, in pieces no longer than an attribute value (512 bytes).
export const ZPL_SERVICE = '38eb4a80-c570-11e3-9507-0002a5d5c51b';
export const ZPL_TO_PRINTER = '38eb4a82-c570-11e3-9507-0002a5d5c51b';
const GATT_VALUE_MAX = 512;
let btPrinter = null; // the printer chosen in this session: the browser asks for it once

async function bluetoothAvailable() {
  try {
    return !!navigator.bluetooth && (await navigator.bluetooth.getAvailability());
  } catch {
    return false;
  }
}

// Sends zpl to the session's printer (asking the user to choose one the first time); resolves
// its name.
async function printOverBluetooth(zpl) {
  if (!btPrinter) btPrinter = await navigator.bluetooth.requestDevice({ filters: [{ services: [ZPL_SERVICE] }] });
  const gatt = btPrinter.gatt.connected ? btPrinter.gatt : await btPrinter.gatt.connect();
  const toPrinter = await (await gatt.getPrimaryService(ZPL_SERVICE)).getCharacteristic(ZPL_TO_PRINTER);
  const bytes = new TextEncoder().encode(zpl);
  for (let at = 0; at < bytes.length; at += GATT_VALUE_MAX) {
    await toPrinter.writeValueWithResponse(bytes.subarray(at, at + GATT_VALUE_MAX));
  }
  return btPrinter.name || btPrinter.id;
}

export function labelPanel(huId) {
  const img = h('img.label-img', { alt: t('label.alt', { id: huId }), dataset: { testid: 'label-img' } });
  const msg = h('p.muted', { dataset: { testid: 'label-msg' } });
  const reason = h('select', { name: 'reprint_reason_code' }, REPRINT_REASONS.map((r) => h('option', { value: r }, t(`reprint.${r}`))));
  const reasonText = h('input', { name: 'reprint_reason', type: 'text', placeholder: fieldLabel('reason') });
  const reprintBox = h('div.reprint', { hidden: true }, h('label', t('label.reprint_reason'), reason), reasonText);
  let printed = false;
  // Records the print (the reason asked before a reprint): false when the reason is missing.
  const reasonGiven = () => {
    if (printed && !reasonText.value.trim()) {
      put(msg, t('label.reason_needed'));
      return false;
    }
    return true;
  };
  const record = async (printer, format) => {
    const payload = printed
      ? { hu_id: huId, reason_code: reason.value, reason: reasonText.value.trim(), printer, format }
      : { hu_id: huId, printer, format };
    await outbox.add(printed ? 'LabelReprinted' : 'LabelPrinted', payload);
    printed = true;
    reprintBox.hidden = false;
    put(msg, t('label.recorded'));
  };
  const printBrowser = h('button.primary', { type: 'button', dataset: { testid: 'print' }, onclick: async () => {
    if (!reasonGiven()) return;
    document.body.classList.add('printing-label');
    img.classList.add('print-me');
    try {
      window.print();
    } finally {
      document.body.classList.remove('printing-label');
      img.classList.remove('print-me');
    }
    await record('browser', 'pdf');
  } }, t('label.print'));
  const printBt = h('button', { type: 'button', hidden: true, dataset: { testid: 'print-bt' }, onclick: async () => {
    if (!reasonGiven()) return;
    put(msg, t('label.bt_sending'));
    let name;
    try {
      const res = await apiFetch(`/api/v1/labels/${encodeURIComponent(huId)}/zpl`, { headers: { Accept: 'application/zpl' } });
      if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => ({})));
      name = await printOverBluetooth(await res.text());
    } catch (e) {
      if (e?.name === 'NotFoundError') put(msg, t('label.bt_none'));
      else put(msg, t('label.bt_failed', { why: e instanceof ApiError ? `${e.problem.code || e.status}: ${e.message}` : e?.message || String(e) }));
      return;
    }
    await record(`bluetooth:${name}`.slice(0, 100), 'zpl');
  } }, t('label.print_bt'));
  bluetoothAvailable().then((yes) => {
    printBt.hidden = !yes;
  });
  const panel = h('div.label-panel', { dataset: { testid: 'label', hu: huId } },
    h('h3', t('label.title', { id: huId })), img, reprintBox, printBrowser, printBt, msg);
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
