// Browser tests of the web app: Debian's Chromium, headless, driven by playwright-core, against
// a real foutad (server.mjs). One test per role's main flow through the UI, each event's verdict
// read on the page, plus the outbox offline then online with a retried event recorded once.
// Usage: node web.test.mjs FOUTAD [ARTIFACTS_DIR]
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startFoutad, seed, Api, TENANT, PASSWORD } from './server.mjs';
import { labelSvgToY4m } from './qr.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const foutad = process.argv[2];
const artifacts = path.resolve(process.argv[3] || path.join(root, 'test-artifacts/web'));
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
fs.mkdirSync(artifacts, { recursive: true });

let server;
let api;
let browser;
const pageErrors = [];

before(async () => {
  server = await startFoutad(foutad, path.join(root, 'clients/web'));
  api = new Api(server.base);
  await seed(api);
  // The fake camera shows the label of roll R-CUT, as foutad renders it.
  const svg = await (await fetch(`${server.base}/api/v1/labels/R-CUT/svg`, { headers: { Authorization: `Bearer ${await api.token('manager')}` } })).text();
  const camera = path.join(server.dir, 'camera.y4m');
  labelSvgToY4m(svg, camera);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${camera}`,
      // Web Bluetooth, on by default in Chrome for Android (the plant's phones), is behind this
      // flag on Linux; with no adapter (every test but the printer's) the app hides its button.
      '--enable-features=WebBluetooth'],
  });
});

after(async () => {
  await browser?.close();
  if (server) {
    const code = await server.stop();
    fs.writeFileSync(path.join(artifacts, 'foutad.log'), server.log());
    assert.equal(code, '0', 'foutad stops cleanly');
    fs.rmSync(server.dir, { recursive: true, force: true });
  }
});

async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

// A fresh browser context (its own storage) signed in as role through the sign-in screen.
async function signIn(role, { desktop = false } = {}) {
  const context = await browser.newContext({
    locale: 'fr-FR',
    viewport: desktop ? { width: 1280, height: 900 } : { width: 412, height: 915 },
    isMobile: !desktop,
    hasTouch: !desktop,
    acceptDownloads: true,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20000); // a loaded 2-core machine: generous, the run is still ~20-30 s
  page.on('pageerror', (e) => pageErrors.push(`${role}: ${e.message}`));
  page.on('console', (m) => {
    // Offline fetches, and a WebSocket opened with a token the server refused (the app then
    // refreshes it), are the browser's own messages about expected failures.
    if (m.type() === 'error' && !/Failed to load resource|ERR_INTERNET_DISCONNECTED|WebSocket connection to .* failed: HTTP Authentication failed/.test(m.text())) pageErrors.push(`${role}: ${m.text()}`);
  });
  await page.goto(`${server.base}/app`);
  assert.match(page.url(), /\/app\/$/, '/app redirects to /app/');
  await page.locator('form[data-testid=signin]').waitFor();
  assert.equal(await page.locator('h1').textContent(), 'Connexion', 'French first');
  await page.fill('input[name=tenant]', TENANT);
  await page.fill('input[name=user]', role);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('form[data-testid=signin] button[type=submit]');
  await page.locator('[data-testid=who]').waitFor();
  return { context, page };
}

// Fills the event form of type with values (selects, checkboxes and text alike), submits it,
// and waits for the verdict of the event it made; returns {id, state, text}.
async function submit(page, type, values, expect = 'accepted') {
  const form = page.locator(`form[data-type="${type}"]`);
  await form.waitFor();
  for (const [name, value] of Object.entries(values)) {
    const el = form.locator(`[name="${name}"]`);
    const tag = await el.evaluate((e) => (e.type === 'checkbox' ? 'checkbox' : e.tagName));
    if (tag === 'SELECT') await el.selectOption(String(value));
    else if (tag === 'checkbox') await el.setChecked(!!value);
    else await el.fill(String(value));
  }
  const status = form.locator('[data-role=status]');
  const before = await status.getAttribute('data-id');
  await form.locator('button[type=submit]').click();
  // The verdict of this event (not of the form's previous one).
  await page.waitForFunction(([f, old]) => {
    const s = document.querySelector(`form[data-type="${f}"] [data-role=status]`);
    return s && s.dataset.id && s.dataset.id !== old && s.dataset.state && s.dataset.state !== 'pending';
  }, [type, before], { timeout: 20000 }).catch(() => {});
  const state = await status.getAttribute('data-state');
  const text = await status.textContent();
  assert.equal(state, expect, `${type}: ${text}`);
  return { id: await status.getAttribute('data-id'), state, text };
}

async function tab(page, name) {
  await page.click(`nav.tabs a[data-tab="${name}"]`);
}

async function eventsOf(stream) {
  return (await api.get(`/api/v1/events?stream=${encodeURIComponent(stream)}&limit=1000`)).events;
}

test('the app is served with its types, an installable manifest and no path outside it', async () => {
  const get = (p) => fetch(`${server.base}${p}`);
  const types = {
    '/app/': 'text/html', '/app/js/main.js': 'text/javascript', '/app/css/app.css': 'text/css',
    '/app/manifest.webmanifest': 'application/manifest+json', '/app/icons/icon.svg': 'image/svg+xml',
    '/app/icons/icon-192.png': 'image/png', '/app/sw.js': 'text/javascript',
  };
  for (const [p, type] of Object.entries(types)) {
    const res = await get(p);
    assert.equal(res.status, 200, p);
    assert.ok(res.headers.get('content-type').startsWith(type), `${p}: ${res.headers.get('content-type')}`);
  }
  for (const p of ['/app/../api/web.c', '/app/%2e%2e/%2e%2e/README.md', '/app/.hidden', '/app/js/../../README.md', '/app/js//main.js', '/appjs/main.js']) {
    assert.equal((await get(p)).status, 404, p);
  }
  // The service worker keeps every file of the app for offline use.
  const sw = await (await get('/app/sw.js')).text();
  const files = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  for (const f of files(path.join(root, 'clients/web'))) {
    const rel = `/app/${path.relative(path.join(root, 'clients/web'), f)}`;
    if (rel === '/app/sw.js' || rel.startsWith('/app/node_modules/') || /^\/app\/package(-lock)?\.json$/.test(rel)) continue;
    assert.ok(sw.includes(`'${rel}'`), `${rel} is in sw.js's list`);
  }
  // jsQR, from npm, for scanning where the browser has no BarcodeDetector.
  const jsqr = await get('/app/node_modules/jsqr/dist/jsQR.js');
  assert.equal(jsqr.status, 200, 'jsQR is installed (scripts/setup) and served');
  assert.ok(sw.includes("'/app/node_modules/jsqr/dist/jsQR.js'"));
  // The two string tables: the same keys, and a name for every field, type and value of the
  // catalog (the generated forms show them).
  const fr = (await import(path.join(root, 'clients/web/js/fr.js'))).default;
  const en = (await import(path.join(root, 'clients/web/js/en.js'))).default;
  assert.deepEqual(Object.keys(fr).sort(), Object.keys(en).sort());
  const doc = await (await get('/api/v1/openapi.json')).json();
  const missing = [];
  const walk = (props) => {
    for (const [n, p] of Object.entries(props || {})) {
      if (!(`field.${n}` in fr)) missing.push(`field.${n}`);
      for (const v of p.enum || []) if (!(`enum.${v}` in fr)) missing.push(`enum.${v}`);
      walk(p.items?.properties);
    }
  };
  for (const s of Object.values(doc.components.schemas).filter((s) => s['x-roles'])) {
    if (!(`ev.${s.title}` in fr)) missing.push(`ev.${s.title}`);
    walk(s.properties);
  }
  assert.deepEqual(missing, [], 'names missing from the tables');
  const manifest = await (await get('/app/manifest.webmanifest')).json();
  assert.equal(manifest.start_url, '/app/');
  assert.ok(manifest.icons.some((i) => i.sizes === '512x512'));
});

test('weaver: declares a roll, stops and restarts the loom; a refusal shows its code and field', async () => {
  const { context, page } = await signIn('weaver');
  const roll = await submit(page, 'ProductionDeclared', {
    hu_id: 'R-W1', loom_id: 'L1', of_id: 'OF1', item_id: 'TW-500', qty_milli: '120', unit: 'pcs',
    length_milli: '60', weight_milli: '31,5', picks: '300000', location_id: 'WEAVING',
  });
  assert.match(roll.text, /Enregistré \(n° \d+\)/);
  const [ev] = await eventsOf('hu-R-W1');
  assert.equal(ev.id, roll.id, 'the event id made by the device');
  assert.equal(ev.actor.user, 'weaver');
  assert.equal(ev.actor.device, await page.evaluate(() => localStorage.getItem('fouta.device')), 'the phone that posted it');
  assert.match(ev.actor.device, /^web-[0-9a-f]{12}$/);
  // The tokens are bound to this installation: copied with another device id, refused.
  const copied = await page.evaluate(async () => {
    const { access } = JSON.parse(localStorage.getItem('fouta.session'));
    const ask = async (device) => (await fetch('/api/v1/head', { headers: { Authorization: `Bearer ${access}`, 'X-Device-Id': device } })).status;
    return { own: await ask(localStorage.getItem('fouta.device')), other: await ask('web-000000000000') };
  });
  assert.deepEqual(copied, { own: 200, other: 401 });
  assert.equal(ev.payload.weight_milli, 31500, 'decimals typed with a comma, posted in thousandths');
  // The roll's label, rendered by the server with its QR code; printing it records LabelPrinted.
  const label = page.locator('form[data-type="ProductionDeclared"] [data-testid=label][data-hu="R-W1"]');
  await label.waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid=label-img]')?.naturalWidth > 0);
  await shot(page, 'weaver-roll');
  await label.locator('[data-testid=print]').click();
  await label.locator('[data-testid=label-msg]', { hasText: 'Impression enregistrée' }).waitFor();
  for (let i = 0; i < 50 && !(await fetch(`${server.base}/api/v1/labels/R-W1`, { headers: { Authorization: `Bearer ${await api.token('manager')}` } })).ok; i++) await page.waitForTimeout(100);
  assert.equal((await api.get('/api/v1/labels/R-W1')).state, 'printed');
  await tab(page, 'LoomStopped');
  await submit(page, 'LoomStopped', { loom_id: 'L1', stop_class: 'warp', reason_code: 'W12', picks: '300100' });
  assert.equal((await api.get('/api/v1/looms/L1')).stopped, true);
  // An access token the server refuses (expired, or signed with a retired key): the app
  // refreshes it with the refresh token and the event goes through.
  const old = await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem('fouta.session'));
    const was = { access: s.access, refresh: s.refresh };
    s.access = `${s.access.slice(0, -4)}AAAA`;
    localStorage.setItem('fouta.session', JSON.stringify(s));
    return was;
  });
  await page.reload();
  await tab(page, 'LoomRestarted');
  await submit(page, 'LoomRestarted', { loom_id: 'L1', picks: '300100' });
  const now = await page.evaluate(() => JSON.parse(localStorage.getItem('fouta.session')));
  assert.notEqual(now.access, old.access, 'a new access token');
  assert.notEqual(now.refresh, old.refresh, 'the refresh token rotated');
  assert.equal((await api.get('/api/v1/looms/L1')).stopped, false);
  // A roll on an order that is not in progress on that loom: the ledger's rule refuses it.
  await tab(page, 'ProductionDeclared');
  const refused = await submit(page, 'ProductionDeclared', {
    hu_id: 'R-W9', loom_id: 'L2', of_id: 'OF1', qty_milli: '10', length_milli: '5', picks: '0',
  }, 'refused');
  assert.match(refused.text, /Refusé : RULE_\w+ \(payload/);
  await shot(page, 'weaver-refused');
  await tab(page, 'outbox');
  await page.locator(`[data-testid=outbox] li[data-id="${refused.id}"][data-state=refused]`).waitFor();
  assert.equal(await page.locator('[data-testid=outbox] li[data-state=accepted]').count(), 4);
  assert.equal(await page.locator('[data-testid=outbox] li[data-type=LabelPrinted][data-state=accepted]').count(), 1);
  await shot(page, 'weaver-outbox');
  // The refused roll corrected: its form comes back filled with what was sent; on the right loom
  // it is a new event, accepted, and the refused one keeps its verdict.
  await page.click(`[data-testid=outbox] li[data-id="${refused.id}"] [data-action=correct]`);
  const again = page.locator('form[data-type="ProductionDeclared"]');
  await again.waitFor();
  assert.equal(await again.locator('[name=hu_id]').inputValue(), 'R-W9');
  assert.equal(await again.locator('[name=loom_id]').inputValue(), 'L2');
  assert.equal(await again.locator('[name=qty_milli]').inputValue(), '10');
  const fixed = await submit(page, 'ProductionDeclared', { loom_id: 'L1', picks: '310000' });
  assert.notEqual(fixed.id, refused.id);
  assert.equal((await api.get('/api/v1/hus/R-W9')).qty_milli, 10000);
  await context.close();
});

test('weaver offline: the roll waits in the outbox, survives a reload, is sent online, and a resend is recorded once', async () => {
  const { context, page } = await signIn('weaver');
  // The service worker has the app's files before the network goes.
  await page.waitForFunction(() => navigator.serviceWorker?.controller || navigator.serviceWorker?.ready.then(() => true), null, { timeout: 10000 });
  await page.evaluate(() => navigator.serviceWorker.ready);
  await context.setOffline(true);
  await page.locator('[data-testid=net][data-online=false]').waitFor();
  const form = page.locator('form[data-type="ProductionDeclared"]');
  for (const [k, v] of Object.entries({ loom_id: 'L1', of_id: 'OF1', item_id: 'TW-500', location_id: 'WEAVING' })) await form.locator(`[name=${k}]`).fill(v);
  await form.locator('[name=hu_id]').fill('R-OFF1');
  await form.locator('[name=qty_milli]').fill('118');
  await form.locator('[name=length_milli]').fill('59');
  await form.locator('[name=picks]').fill('400000');
  await form.locator('button[type=submit]').click();
  const status = form.locator('[data-role=status]');
  await page.waitForFunction(() => document.querySelector('[data-role=status]')?.dataset.id);
  const id = await status.getAttribute('data-id');
  await page.waitForTimeout(300);
  assert.equal(await status.getAttribute('data-state'), 'pending');
  assert.match(await status.textContent(), /En attente d’envoi/);
  assert.equal(await page.locator('[data-testid=pending]').textContent(), '1');
  assert.equal((await eventsOf('hu-R-OFF1')).length, 0, 'nothing reached the server');
  await shot(page, 'offline-pending');
  // Offline reload: the page comes from the service worker, the event from IndexedDB.
  await page.reload();
  await tab(page, 'outbox');
  const item = page.locator(`[data-testid=outbox] li[data-id="${id}"]`);
  await item.waitFor();
  assert.equal(await item.getAttribute('data-state'), 'pending');
  await shot(page, 'offline-reloaded');
  await context.setOffline(false);
  await page.locator(`[data-testid=outbox] li[data-id="${id}"][data-state=accepted]`).waitFor({ timeout: 20000 });
  const seq = (await eventsOf('hu-R-OFF1'))[0].seq;
  assert.match(await item.locator('[data-testid=verdict]').textContent(), new RegExp(`Enregistré \\(n° ${seq}\\)`));
  // The same event again (a retry after a lost answer): the same id, the original position.
  await item.locator('[data-action=resend]').click();
  await page.locator(`[data-testid=outbox] li[data-id="${id}"][data-state=duplicate]`).waitFor();
  assert.match(await item.locator('[data-testid=verdict]').textContent(), new RegExp(`Déjà enregistré \\(n° ${seq}\\)`));
  const events = await eventsOf('hu-R-OFF1');
  assert.equal(events.length, 1, 'recorded once');
  assert.equal(events[0].id, id);
  const all = (await api.get('/api/v1/events?type=ProductionDeclared&limit=1000')).events.filter((e) => e.id === id);
  assert.equal(all.length, 1);
  await shot(page, 'offline-synced');
  await context.close();
});

test('cutter: cuts a roll into first and second choice bundles and waste, then sees its genealogy', async () => {
  const { context, page } = await signIn('cutter');
  // The roll's id read from its label's QR code by the camera (jsQR: no BarcodeDetector here).
  await context.grantPermissions(['camera']);
  const received = page.locator('form[data-type="HUReceivedAtCutting"]');
  await received.locator('[data-field=hu_id] button.scan').click();
  await page.locator('[data-testid=scanner]').waitFor();
  await shot(page, 'cutter-scanning');
  await page.waitForFunction(() => document.querySelector('form[data-type="HUReceivedAtCutting"] [name=hu_id]').value === 'R-CUT', null, { timeout: 15000 });
  assert.equal(await page.locator('[data-testid=scanner]').count(), 0, 'the camera is closed once read');
  await submit(page, 'HUReceivedAtCutting', { from_location_id: 'WEAVING', to_location_id: 'CUT' });
  assert.equal((await api.get('/api/v1/hus/R-CUT')).location, 'CUT');
  await tab(page, 'CuttingDeclared');
  await submit(page, 'CuttingDeclared', {
    input_hu_id: 'R-CUT', consumed_qty_milli: '120', unit: 'pcs', location_id: 'CUT',
    'outputs.0.hu_id': 'R-CUT-A', 'outputs.0.item_id': 'TW-500', 'outputs.0.grade': 'first', 'outputs.0.qty_milli': '100',
    'outputs.1.hu_id': 'R-CUT-B', 'outputs.1.item_id': 'TW-500', 'outputs.1.grade': 'second', 'outputs.1.qty_milli': '18',
    waste_qty_milli: '2', waste_reason: 'roll_end',
  });
  const b = await api.get('/api/v1/hus/R-CUT-B');
  assert.equal(b.grade, 'second');
  assert.equal(b.qty_milli, 18000);
  // A label for each bundle.
  await page.locator('[data-testid=label][data-hu="R-CUT-B"]').waitFor();
  assert.equal(await page.locator('[data-testid=label]').count(), 2);
  await shot(page, 'cutter-cut');
  await tab(page, 'lookup');
  await page.fill('input[name=lookup_hu]', 'R-CUT');
  await page.click('.view form.inline button[type=submit]');
  await page.locator('[data-testid=genealogy-down]').waitFor();
  const down = await page.locator('[data-testid=genealogy-down]').textContent();
  assert.match(down, /R-CUT-A/);
  assert.match(down, /R-CUT-B/);
  await shot(page, 'cutter-genealogy');
  await context.close();
});

test('mechanic: sees the breakdown on his loom, acknowledges, starts and completes it', async () => {
  const { context, page } = await signIn('mechanic');
  await page.fill('input[name=my_looms]', 'L1');
  await page.locator('input[name=my_looms]').press('Tab');
  const card = page.locator('[data-testid=interventions] [data-int="INT-1"]');
  await card.waitFor();
  assert.equal(await card.getAttribute('data-state'), 'requested');
  // A new request arrives live (WebSocket) while the screen is open.
  await api.post('weaver', 'InterventionRequested', { int_id: 'INT-2', loom_id: 'L1', fault_class: 'electrical', urgency: 'critical' });
  await page.locator('[data-testid=interventions] [data-int="INT-2"][data-state=requested]').waitFor({ timeout: 10000 });
  await shot(page, 'mechanic-list');
  for (const [step, values, state] of [
    ['InterventionAcknowledged', { eta_min: '5' }, 'acknowledged'],
    ['InterventionStarted', {}, 'started'],
    ['InterventionCompleted', { root_cause: 'wear', root_cause_detail: 'roulement du battant usé', action_taken: 'roulement changé' }, 'completed'],
  ]) {
    await page.locator(`[data-int="INT-1"] button[data-step="${step}"]`).click();
    assert.equal(await page.locator(`form[data-type="${step}"] [name=int_id]`).inputValue(), 'INT-1', 'prefilled');
    await submit(page, step, values);
    await page.locator(`[data-testid=interventions] [data-int="INT-1"][data-state=${state}]`).waitFor({ timeout: 10000 });
  }
  assert.equal((await api.get('/api/v1/interventions/INT-1')).state, 'completed');
  await shot(page, 'mechanic-completed');
  await context.close();
});

test('raw-material storekeeper: receives yarn and issues it to a loom', async () => {
  const { context, page } = await signIn('store_raw');
  await submit(page, 'GoodsReceived', {
    hu_id: 'Y-T1', item_id: 'YARN-30', qty_milli: '250,5', unit: 'kg', cones: '40', location_id: 'MP1',
    supplier: 'Filature du Sahel', supplier_lot: 'FS-2611',
  });
  assert.equal((await api.get('/api/v1/hus/Y-T1')).qty_milli, 250500);
  await tab(page, 'MaterialIssuedToLoom');
  // Remembered from the last receipt: not typed again.
  await submit(page, 'MaterialIssuedToLoom', { hu_id: 'Y-T1', loom_id: 'L1', of_id: 'OF1', qty_milli: '50', from_location_id: 'MP1' });
  assert.equal((await api.get('/api/v1/hus/Y-T1')).out_milli, 50000);
  await shot(page, 'store-raw-issue');
  await context.close();
});

// A Zebra printer as Chromium's Bluetooth emulation (CDP BluetoothEmulation) presents it: its
// ZPL parser service with the "to printer" characteristic; every write is kept.
const ZPL_SERVICE = '38eb4a80-c570-11e3-9507-0002a5d5c51b';
const ZPL_TO_PRINTER = '38eb4a82-c570-11e3-9507-0002a5d5c51b';

async function emulatedPrinter(name, address) {
  const bt = await browser.newBrowserCDPSession();
  await bt.send('BluetoothEmulation.enable', { state: 'powered-on', leSupported: true });
  await bt.send('BluetoothEmulation.simulatePreconnectedPeripheral', { address, name, manufacturerData: [], knownServiceUuids: [ZPL_SERVICE] });
  const { serviceId } = await bt.send('BluetoothEmulation.addService', { address, serviceUuid: ZPL_SERVICE });
  await bt.send('BluetoothEmulation.addCharacteristic', { serviceId, characteristicUuid: ZPL_TO_PRINTER, properties: { write: true } });
  const writes = [];
  bt.on('BluetoothEmulation.gattOperationReceived', (e) => {
    bt.send('BluetoothEmulation.simulateGATTOperationResponse', { address: e.address, type: e.type, code: 0 }).catch(() => {});
  });
  bt.on('BluetoothEmulation.characteristicOperationReceived', (e) => {
    if (e.type === 'write') writes.push(Buffer.from(e.data, 'base64'));
    bt.send('BluetoothEmulation.simulateCharacteristicOperationResponse', { characteristicId: e.characteristicId, type: e.type, code: 0 }).catch(() => {});
  });
  const close = async () => {
    await bt.send('BluetoothEmulation.disable').catch(() => {});
    await bt.detach().catch(() => {});
  };
  return { writes, close };
}

async function until(what, check) {
  for (let i = 0; i < 100; i++) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`waited 10 s for ${what}`);
}

test('labels: a receipt\'s label sent as ZPL to a Bluetooth printer, chosen once, then reprinted on it', async () => {
  const printer = await emulatedPrinter('ZD421', '09:09:09:09:09:01');
  try {
    const { context, page } = await signIn('store_raw');
    // The browser's device chooser, answered as a user would: the printer it lists.
    const cdp = await context.newCDPSession(page);
    await cdp.send('DeviceAccess.enable');
    const prompts = new Set();
    cdp.on('DeviceAccess.deviceRequestPrompted', (e) => {
      if (prompts.has(e.id)) return;
      prompts.add(e.id);
      cdp.send('DeviceAccess.selectPrompt', { id: e.id, deviceId: e.devices[0].id }).catch(() => {});
    });
    await submit(page, 'GoodsReceived', {
      hu_id: 'Y-BT1', item_id: 'YARN-30', qty_milli: '120', unit: 'kg', cones: '20', location_id: 'MP1',
      supplier: 'Filature du Sahel', supplier_lot: 'FS-2612',
    });
    const label = page.locator('form[data-type="GoodsReceived"] [data-testid=label][data-hu="Y-BT1"]');
    await label.locator('[data-testid=print-bt]').click();
    await label.locator('[data-testid=label-msg]', { hasText: 'Impression enregistrée' }).waitFor();
    const zpl = await (await fetch(`${server.base}/api/v1/labels/Y-BT1/zpl`, { headers: { Authorization: `Bearer ${await api.token('manager')}` } })).text();
    assert.equal(Buffer.concat(printer.writes).toString(), zpl, 'the printer received the label foutad renders, whole');
    assert.ok(printer.writes.length > 1 && printer.writes.every((w) => w.length <= 512), `${printer.writes.length} writes of at most 512 bytes`);
    const printed = await until('LabelPrinted', async () => (await eventsOf('hu-Y-BT1')).find((e) => e.type === 'LabelPrinted'));
    assert.deepEqual({ printer: printed.payload.printer, format: printed.payload.format }, { printer: 'bluetooth:ZD421', format: 'zpl' });
    // Reprinted on the same printer: its reason asked, the printer not asked for again.
    printer.writes.length = 0;
    await label.locator('input[name=reprint_reason]').fill('étiquette déchirée');
    await label.locator('[data-testid=print-bt]').click();
    const reprinted = await until('LabelReprinted', async () => (await eventsOf('hu-Y-BT1')).find((e) => e.type === 'LabelReprinted'));
    assert.equal(reprinted.payload.printer, 'bluetooth:ZD421');
    assert.equal(reprinted.payload.reason, 'étiquette déchirée');
    assert.equal(Buffer.concat(printer.writes).toString(), zpl);
    assert.equal(prompts.size, 1, 'the printer is chosen once a session');
    await shot(page, 'label-bluetooth');
    await context.close();
  } finally {
    await printer.close();
  }
});

test('finished-goods storekeeper: transfers bundles and packs them into a carton', async () => {
  const { context, page } = await signIn('store_finished');
  for (const hu of ['B-F1', 'B-F2']) {
    await submit(page, 'StockTransferred', { hu_id: hu, from_location_id: 'CUT', to_location_id: 'FG' });
  }
  await tab(page, 'HUPacked');
  await submit(page, 'HUPacked', { carton_hu_id: 'C-T1', hu_ids: 'B-F1\nB-F2', location_id: 'FG' });
  const carton = await api.get('/api/v1/hus/C-T1');
  assert.deepEqual(carton.contents.map((c) => c.hu_id).sort(), ['B-F1', 'B-F2']);
  await shot(page, 'store-finished-packed');
  await tab(page, 'lookup');
  await page.fill('input[name=lookup_hu]', 'C-T1');
  await page.click('.view form.inline button[type=submit]');
  await page.locator('[data-testid=contents]').waitFor();
  assert.match(await page.locator('[data-testid=contents]').textContent(), /B-F2/);
  await shot(page, 'store-finished-carton');
  // A spot count at FG: the unit read fills its item, unit and book quantity; 29 counted.
  await tab(page, 'count');
  await submit(page, 'CountOpened', { count_id: 'CNT-1', location_ids: 'FG', scope: 'spot' });
  const counting = page.locator('form[data-type="ItemCounted"]');
  await counting.locator('[name=count_id]').fill('CNT-1');
  await counting.locator('[name=location_id]').fill('FG');
  await counting.locator('[name=hu_id]').fill('B-F1');
  await counting.locator('[name=hu_id]').press('Tab');
  await page.locator('[data-testid=book]', { hasText: '30 pcs' }).waitFor();
  assert.equal(await counting.locator('[name=item_id]').inputValue(), 'TW-500');
  await submit(page, 'ItemCounted', { counted_qty_milli: '29' });
  await submit(page, 'CountClosed', { count_id: 'CNT-1' });
  assert.equal((await api.get('/api/v1/counts/CNT-1')).state, 'closed');
  const line = (await eventsOf('count-CNT-1')).find((e) => e.type === 'ItemCounted');
  assert.deepEqual([line.payload.hu_id, line.payload.item_id, line.payload.unit, line.payload.counted_qty_milli], ['B-F1', 'TW-500', 'pcs', 29000]);
  await shot(page, 'store-finished-count');
  await context.close();
});

test('subcontracting storekeeper: sends a lot out for embroidery and takes it back, balanced', async () => {
  const { context, page } = await signIn('store_subcontract');
  await submit(page, 'LotSentToSubcontractor', {
    sublot_id: 'SL-T1', sub_id: 'BRODERIE', operation: 'embroidery', hu_ids: 'B-S1', qty_milli: '30', unit: 'pcs',
    from_location_id: 'CUT', to_location_id: 'SUB-BRODERIE',
  });
  await tab(page, 'LotReturnedFromSubcontractor');
  await submit(page, 'LotReturnedFromSubcontractor', {
    sublot_id: 'SL-T1', sub_id: 'BRODERIE', good_hu_id: 'E-T1', good_qty_milli: '28', grade: 'first',
    rejected_qty_milli: '1', lost_qty_milli: '0,5', allowance_qty_milli: '0,5', allowance_reason: 'fils coupés',
    to_location_id: 'FG', closes_lot: true,
  });
  const lot = await api.get('/api/v1/sublots/SL-T1');
  assert.equal(lot.state, 'closed');
  assert.equal(lot.good_milli, 28000);
  await shot(page, 'store-subcontract-returned');
  await context.close();
});

test('quality: puts a bundle on hold and releases it; the app speaks English on request', async () => {
  const { context, page } = await signIn('quality');
  // Lots to inspect arrive live: a cut made on the floor is announced.
  await page.locator('[data-testid=bell][data-state=live]').waitFor();
  await api.post('cutter', 'CuttingDeclared', {
    input_hu_id: 'R-W1', consumed_qty_milli: 120000, unit: 'pcs', location_id: 'CUT',
    outputs: [{ hu_id: 'Q-N1', item_id: 'TW-500', grade: 'first', qty_milli: 120000 }], waste_qty_milli: 0,
  });
  await page.locator('[data-testid=toasts] li', { hasText: 'À contrôler : Q-N1' }).waitFor();
  assert.equal(await page.locator('[data-testid=bell] .count').textContent(), '1');
  await shot(page, 'quality-notified');
  await submit(page, 'LotPutOnHold', { hu_id: 'B-Q1', reason: 'lisière à vérifier' });
  assert.equal((await api.get('/api/v1/hus/B-Q1')).status, 'on hold');
  // A defect with its photo, recorded offline: the photo waits with the event in IndexedDB, is
  // uploaded when the network is back (POST /api/v1/blobs), then the event that names its hash.
  await tab(page, 'more');
  await page.locator('select[name=more_type][data-count]').waitFor({ state: 'attached' });
  await page.selectOption('select[name=more_type]', 'DefectRecorded');
  await page.locator('form[data-type="DefectRecorded"]').waitFor();
  await context.setOffline(true);
  const photo = path.join(root, 'clients/web/icons/icon-192.png');
  const sha = (await import('node:crypto')).createHash('sha256').update(fs.readFileSync(photo)).digest('hex');
  const defect = page.locator('form[data-type="DefectRecorded"]');
  await defect.locator('[name=hu_id]').fill('B-Q1');
  await defect.locator('[name=defect_id]').fill('D-TACHE');
  await defect.locator('[name=count]').fill('2');
  await defect.locator('[name=photos]').setInputFiles(photo);
  await defect.locator('button[type=submit]').click();
  await page.waitForFunction(() => document.querySelector('form[data-type="DefectRecorded"] [data-role=status]')?.dataset.state === 'pending');
  const defectId = await defect.locator('[data-role=status]').getAttribute('data-id');
  await context.setOffline(false);
  await page.waitForFunction(() => document.querySelector('form[data-type="DefectRecorded"] [data-role=status]')?.dataset.state === 'accepted', null, { timeout: 20000 });
  const recorded = (await eventsOf('hu-B-Q1')).find((e) => e.id === defectId);
  assert.deepEqual(recorded.payload.photos, [{ sha256: sha }]);
  const blob = await fetch(`${server.base}/api/v1/blobs/${sha}`, { headers: { Authorization: `Bearer ${await api.token('manager')}` } });
  assert.equal(blob.status, 200);
  assert.deepEqual(Buffer.from(await blob.arrayBuffer()), fs.readFileSync(photo), 'the photo as taken');
  await shot(page, 'quality-defect-photo');
  await page.selectOption('select[name=lang]', 'en');
  await page.locator('nav.tabs a[data-tab="LotReleased"]', { hasText: 'Release a lot' }).waitFor();
  await tab(page, 'LotReleased');
  const r = await submit(page, 'LotReleased', { hu_id: 'B-Q1', note: 'selvedge fine' });
  assert.match(r.text, /Recorded \(#\d+\)/);
  assert.equal((await api.get('/api/v1/hus/B-Q1')).status, 'released');
  await shot(page, 'quality-released-en');
  await context.close();
});

test('manager: live loom board, stock, a unit with its genealogy, KPIs with a chart and CSV', async () => {
  const { context, page } = await signIn('manager', { desktop: true });
  const l1 = page.locator('[data-testid=board] [data-loom="L1"]');
  await l1.waitFor();
  await page.locator('[data-testid=live][data-state=live]').waitFor({ timeout: 10000 });
  assert.equal(await l1.getAttribute('data-stopped'), 'false');
  // A stop posted by a weaver's phone shows on the open board without a reload.
  await api.post('weaver', 'LoomStopped', { loom_id: 'L1', stop_class: 'weft', reason_code: 'T07', picks: 500000 });
  await page.locator('[data-testid=board] [data-loom="L1"][data-stopped=true]').waitFor({ timeout: 10000 });
  assert.match(await l1.textContent(), /trame T07/);
  await page.locator('[data-testid=toasts] li', { hasText: 'L1 arrêté : trame T07' }).waitFor();
  await shot(page, 'manager-board');
  await api.post('weaver', 'LoomRestarted', { loom_id: 'L1', picks: 500000 });
  await page.locator('[data-testid=board] [data-loom="L1"][data-stopped=false]').waitFor({ timeout: 10000 });

  // The planning board: OF1 running on L1, OF2 then OF3 queued; OF2 moved after OF3.
  await tab(page, 'planning');
  const order = async () => (await page.locator('[data-testid=plan-rows] tbody tr').allTextContents()).map((r) => r.match(/OF\d/)[0]);
  await page.locator('[data-testid=plan-rows] tbody tr').first().waitFor();
  assert.deepEqual(await order(), ['OF1', 'OF2', 'OF3']);
  await page.locator('[data-testid=gantt] rect.running[data-of="OF1"]').waitFor();
  await shot(page, 'manager-planning');
  await page.click('[data-move=down][data-of="OF2"]');
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=plan-rows] tbody tr')].map((r) => r.textContent.match(/OF\d/)[0]).join() === 'OF1,OF3,OF2');
  const plan = (await api.get('/api/v1/planning')).lines.map((l) => l.of_id);
  assert.deepEqual(plan, ['OF1', 'OF3', 'OF2'], 'the ledger has the new order');
  // Dragged back: OF2 dropped on OF3 takes its place.
  await page.locator('[data-testid=plan-rows] tr[data-of="OF2"]').dragTo(page.locator('[data-testid=plan-rows] tr[data-of="OF3"]'));
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=plan-rows] tbody tr')].map((r) => r.textContent.match(/OF\d/)[0]).join() === 'OF1,OF2,OF3');
  assert.deepEqual((await api.get('/api/v1/planning')).lines.map((l) => l.of_id), ['OF1', 'OF2', 'OF3']);
  await shot(page, 'manager-planning-moved');

  await tab(page, 'stock');
  await page.locator('[data-testid=stock-rows] tbody tr').first().waitFor();
  await page.selectOption('select[name=group_by]', 'location');
  await page.click('.view form.inline button[type=submit]');
  await page.locator('[data-testid=stock-rows] td', { hasText: 'FG' }).first().waitFor();
  await shot(page, 'manager-stock');

  await tab(page, 'lookup');
  await page.fill('input[name=lookup_hu]', 'B-F1');
  await page.click('.view form.inline button[type=submit]');
  await page.locator('[data-testid=genealogy-up]').waitFor();
  const up = await page.locator('[data-testid=genealogy-up]').textContent();
  assert.match(up, /R-SEED/, 'a bundle goes up to its roll');
  assert.match(up, /OF1|L1/, 'and to its order or loom');
  await shot(page, 'manager-genealogy');

  // The recall picture: from roll R-SEED down to its bundles and the carton they went into.
  await tab(page, 'trace');
  await page.fill('input[name=trace_entity]', 'hu-R-SEED');
  await page.click('.view form.inline button[type=submit]');
  await page.locator('[data-testid=trace-graph] [data-node="hu-C-T1"]').waitFor();
  const units = await page.locator('[data-testid=trace-units]').textContent();
  for (const id of ['B-F1', 'B-F2', 'C-T1']) assert.match(units, new RegExp(id));
  await shot(page, 'manager-trace');
  const [recallCsv] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=trace-csv]')]);
  assert.match(fs.readFileSync(await recallCsv.path(), 'utf8'), /^hu_id,item,qty,unit,status,location,container\n(.|\n)*C-T1/);
  // Recall from a source: what loom L1 made, down to where it went.
  await page.selectOption('select[name=trace_mode]', 'recall');
  await page.fill('input[name=trace_entity]', 'loom-L1');
  await page.click('.view form.inline button[type=submit]');
  await page.locator('[data-testid=trace-graph] [data-node="hu-R-W1"]').waitFor();
  assert.match(await page.locator('[data-testid=trace-units]').textContent(), /R-CUT-A/);
  await shot(page, 'manager-recall');

  await tab(page, 'kpis');
  await page.locator('[data-testid=kpi-rows] tbody tr').first().waitFor({ timeout: 15000 });
  assert.match(await page.locator('[data-testid=kpi-rows]').textContent(), /L1/);
  await page.locator('[data-testid=chart] svg rect.bar').first().waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=csv]')]);
  const csv = fs.readFileSync(await download.path(), 'utf8');
  fs.writeFileSync(path.join(artifacts, 'kpis.csv'), csv);
  assert.match(csv.split('\n')[0], /,/, 'a header line');
  assert.match(csv, /L1/);
  await shot(page, 'manager-kpis');

  // The order board: OF1 in progress with what was declared, OF3 closed from here.
  await tab(page, 'orders');
  await page.locator('[data-testid=order-rows] tbody tr').first().waitFor();
  const of1 = page.locator('[data-testid=order-rows] tbody tr', { hasText: 'OF1' });
  assert.equal(await of1.locator('[data-state]').getAttribute('data-state'), 'in progress');
  const declared = (await api.get('/api/v1/orders/OF1')).declared_milli;
  assert.ok(declared > 0);
  assert.match(await of1.textContent(), new RegExp(`${declared / 1000} / 5000 pcs`));
  await page.click('[data-act=OFClosed][data-of=OF3]');
  await page.locator('[data-testid=order-rows] tbody tr', { hasText: 'OF3' }).locator('[data-state=closed]').waitFor();
  assert.equal((await api.get('/api/v1/orders/OF3')).state, 'closed');
  await shot(page, 'manager-orders');
  await context.close();
});

test('other entries: every type a role may post, as a form made from the catalog\'s schema', async () => {
  const doc = await (await fetch(`${server.base}/api/v1/openapi.json`)).json();
  const allowed = (role) => Object.values(doc.components.schemas).filter((s) => s['x-roles']?.includes(role)).length;
  {
    const { context, page } = await signIn('weaver');
    await tab(page, 'more');
    await page.locator('select[name=more_type][data-count]').waitFor({ state: 'attached' });
    assert.equal(Number(await page.getAttribute('select[name=more_type]', 'data-count')), allowed('weaver'));
    assert.equal(allowed('weaver'), 11, 'the catalog gives the weaver 11 types');
    await context.close();
  }
  const { context, page } = await signIn('manager', { desktop: true });
  await tab(page, 'more');
  await page.locator('select[name=more_type][data-count]').waitFor({ state: 'attached' });
  assert.equal(Number(await page.getAttribute('select[name=more_type]', 'data-count')), allowed('manager'));
  await page.selectOption('select[name=more_type]', 'OFCreated');
  await submit(page, 'OFCreated', { of_id: 'OF9', item_id: 'TW-500', planned_qty_milli: '1500', unit: 'pcs', due_at_us: '2027-01-15T08:00', priority: '3', note: 'commande export' });
  const created = (await eventsOf('of-OF9'))[0];
  assert.equal(created.payload.planned_qty_milli, 1500000);
  assert.equal(created.payload.due_at_us, new Date('2027-01-15T08:00').getTime() * 1000);
  await page.selectOption('select[name=more_type]', 'OFReleased');
  await submit(page, 'OFReleased', { of_id: 'OF9' });
  assert.equal((await api.get('/api/v1/orders/OF9')).state, 'released');
  // An optional yes/no left empty is absent, not false.
  await page.selectOption('select[name=more_type]', 'LoomDefined');
  await submit(page, 'LoomDefined', { loom_id: 'L3', name: 'Picanol L3', location_id: 'WEAVING', nominal_picks_per_min: '500', terry: true });
  assert.ok(!('active' in (await eventsOf('loom-L3'))[0].payload));
  await shot(page, 'manager-more');
  await context.close();
});

test('curated screens: each spec posts the catalog\'s fields, each tab is in the roles that post it', async () => {
  const doc = await (await fetch(`${server.base}/api/v1/openapi.json`)).json();
  const schema = (type) => Object.values(doc.components.schemas).find((s) => s.title === type && s['x-roles']);
  const { specs, roleTabs, screenTypes } = await import(path.join(root, 'clients/web/js/specs.js'));
  for (const [type, spec] of Object.entries(specs)) {
    const s = schema(type);
    assert.ok(s, `${type} is in the catalog`);
    // The main flows' forms may leave optional fields out; the curated screens' have them all.
    const names = spec.fields.map((f) => f.name);
    for (const n of names) assert.ok(n in s.properties, `${type}.${n} is a field of the catalog`);
    for (const n of s.required || []) assert.ok(names.includes(n), `${type}.${n}, required, is in the form`);
    for (const f of spec.fields) assert.equal(!!f.required, (s.required || []).includes(f.name) && f.kind !== 'bool', `${type}.${f.name} required`);
    if (spec.roles) {
      assert.deepEqual([...names].sort(), Object.keys(s.properties).sort(), `${type}: every field of the catalog`);
      assert.deepEqual([...spec.roles].sort(), [...s['x-roles']].sort(), `${type}: the roles that may post it`);
    }
  }
  for (const [role, tabs] of Object.entries(roleTabs)) {
    for (const tabName of tabs) {
      const types = specs[tabName] ? [tabName] : screenTypes[tabName];
      if (!types) continue;
      assert.ok(types.some((ty) => schema(ty)['x-roles'].includes(role)), `${role} may post from ${tabName}`);
    }
  }
  for (const [screen, types] of Object.entries(screenTypes)) {
    for (const type of types) {
      for (const role of schema(type)['x-roles']) {
        assert.ok(roleTabs[role].includes(screen) || roleTabs[role].includes(type), `${type}: a tab for ${role}`);
      }
    }
  }
});

test('mechanic: first piece with its defect lines; a beam registered, mounted with its metres left, dismounted', async () => {
  const { context, page } = await signIn('mechanic');
  await tab(page, 'FirstPieceInspected');
  await submit(page, 'FirstPieceInspected', {
    loom_id: 'L1', of_id: 'OF1', result: 'passed', width_mm: '502', gsm: '455',
    'defects.0.defect_id': 'D-FIL', 'defects.0.count': '2', note: 'lisière correcte',
  });
  const fp = (await eventsOf('loom-L1')).filter((e) => e.type === 'FirstPieceInspected').pop();
  assert.deepEqual(fp.payload.defects, [{ defect_id: 'D-FIL', count: 2 }]);
  assert.equal(fp.payload.width_mm, 502);
  await shot(page, 'mechanic-first-piece');

  await tab(page, 'beams');
  await page.fill('input[name=beams_id]', 'BM2');
  await page.click('[data-screen=beams] form.inline button[type=submit]');
  await page.locator('[data-testid=record] [data-state=new]').waitFor();
  await submit(page, 'BeamRegistered', { item_id: 'WARP-20', position: 'pile', length_milli: '2500', ends: '4200', location_id: 'BEAMS' });
  await page.locator('[data-testid=record] dl[data-state=unmounted]').waitFor();
  assert.equal(await page.locator('[data-testid=record] dd[data-k=remaining]').textContent(), '2500 m');
  // The next step is the mount, its length filled in from the beam read.
  const mount = page.locator('form[data-type="BeamMounted"]');
  await mount.waitFor();
  assert.equal(await mount.locator('[name=beam_id]').inputValue(), 'BM2');
  assert.equal(await mount.locator('[name=length_milli]').inputValue(), '2500');
  assert.equal(await mount.locator('[name=position]').inputValue(), 'pile');
  await submit(page, 'BeamMounted', { loom_id: 'L2' });
  await page.locator('[data-testid=record] dl[data-state=mounted]').waitFor();
  assert.equal(await page.locator('[data-testid=record] dd[data-k=loom]').textContent(), 'L2');
  assert.equal((await api.get('/api/v1/looms/L2')).beams.pile.beam_id, 'BM2');
  await shot(page, 'mechanic-beam-mounted');
  const dismount = page.locator('form[data-type="BeamDismounted"]');
  await dismount.waitFor();
  assert.equal(await dismount.locator('[name=loom_id]').inputValue(), 'L2');
  await submit(page, 'BeamDismounted', { remaining_length_milli: '1800,5', reason: 'changeover', to_location_id: 'BEAMS' });
  await page.locator('[data-testid=record] dl[data-state=unmounted]').waitFor();
  await page.locator('[data-testid=record] dd[data-k=remaining]', { hasText: '1800.5 m' }).or(page.locator('[data-testid=record] dd[data-k=remaining]', { hasText: '1800,5 m' })).waitFor();
  const beam = await api.get('/api/v1/beams/BM2');
  assert.deepEqual([beam.mounted, beam.remaining_milli], [false, 1800500]);
  assert.deepEqual((await eventsOf('beam-BM2')).map((e) => e.type), ['BeamRegistered', 'BeamMounted', 'BeamDismounted']);
  await shot(page, 'mechanic-beam-dismounted');
  await context.close();
});

test('finished-goods storekeeper: a shipment planned, loaded with a released unit, dispatched', async () => {
  await api.post('store_finished', 'GoodsReceived', { hu_id: 'G-SHIP', item_id: 'TW-500', qty_milli: 50000, unit: 'pcs', location_id: 'FG', supplier: 'Tissage Fouta' });
  await api.post('quality', 'LotReleased', { hu_id: 'G-SHIP' });
  const { context, page } = await signIn('store_finished');
  await tab(page, 'shipments');
  await page.fill('input[name=shipments_id]', 'SH-1');
  await page.click('[data-screen=shipments] form.inline button[type=submit]');
  await page.locator('[data-testid=record] [data-state=new]').waitFor();
  await submit(page, 'ShipmentPlanned', { customer_location_id: 'CUST-ATLAS', planned_at_us: '2027-02-01T08:00', customer_order_ref: 'PO-77' });
  await page.locator('[data-testid=record] dl[data-state=planned]').waitFor();
  await submit(page, 'ShipmentLoaded', { hu_ids: 'G-SHIP', from_location_id: 'FG' });
  await page.locator('[data-testid=record] dd[data-k=units]', { hasText: '1' }).waitFor();
  assert.match(await page.locator('[data-testid=ship-units]').textContent(), /G-SHIP/);
  await shot(page, 'store-finished-shipment-loaded');
  const dispatch = page.locator('form[data-type="ShipmentDispatched"]');
  await dispatch.waitFor();
  assert.equal(await dispatch.locator('[name=to_location_id]').inputValue(), 'CUST-ATLAS', 'the planned customer');
  await submit(page, 'ShipmentDispatched', { carrier: 'Trans Sahel', seal_ref: 'S-991' });
  await page.locator('[data-testid=record] dl[data-state=dispatched]').waitFor();
  const ship = await api.get('/api/v1/shipments/SH-1');
  assert.deepEqual([ship.state, ship.customer_location_id, ship.units_loaded], ['dispatched', 'CUST-ATLAS', 1]);
  assert.equal((await api.get('/api/v1/hus/G-SHIP')).status, 'shipped');
  const planned = (await eventsOf('ship-SH-1'))[0];
  assert.equal(planned.payload.planned_at_us, new Date('2027-02-01T08:00').getTime() * 1000);
  await shot(page, 'store-finished-shipment-dispatched');
  await context.close();
});

test('quality: an inspection with its defect lines and 4-point score; an NC opened, contained, corrected and closed', async () => {
  const { context, page } = await signIn('quality');
  await tab(page, 'inspection');
  const form = page.locator('form[data-type="InspectionRecorded"]');
  await form.waitFor();
  for (const [k, v] of Object.entries({
    hu_id: 'E-T1', inspected_length_milli: '60', width_mm: '500',
    'defects.0.defect_id': 'D-FIL', 'defects.0.count': '3', 'defects.1.defect_id': 'D-TACHE', 'defects.1.count': '1', 'defects.1.position_milli': '12,5',
  })) await form.locator(`[name="${k}"]`).fill(v);
  await form.locator('[name=stage]').selectOption('final');
  await form.locator('[name="defects.0.points"]').selectOption('2');
  await form.locator('[name="defects.1.points"]').selectOption('4');
  // 2 x 3 + 4 x 1 = 10 points on 0.5 m x 60 m: 100,000 x 10 / (500 x 60) = 33.3 per 100 m2.
  await page.locator('[data-testid=points][data-points="10"]', { hasText: '33.3' }).waitFor();
  await shot(page, 'quality-inspection');
  await submit(page, 'InspectionRecorded', {});
  const insp = (await eventsOf('hu-E-T1')).filter((e) => e.type === 'InspectionRecorded');
  assert.deepEqual(insp[0].payload.defects, [
    { defect_id: 'D-FIL', points: 2, count: 3 },
    { defect_id: 'D-TACHE', points: 4, count: 1, position_milli: 12500 },
  ]);
  assert.equal(insp[0].payload.inspected_length_milli, 60000);
  // An inspection that found nothing: no line, an empty list.
  await submit(page, 'InspectionRecorded', { hu_id: 'E-T1' });
  assert.deepEqual((await eventsOf('hu-E-T1')).filter((e) => e.type === 'InspectionRecorded')[1].payload.defects, []);

  await tab(page, 'ncs');
  await page.fill('input[name=ncs_id]', 'NC-1');
  await page.click('[data-screen=ncs] form.inline button[type=submit]');
  await page.locator('[data-testid=record] [data-state=new]').waitFor();
  await submit(page, 'NCOpened', { title: 'Taches d’huile', description: 'taches sur trois paquets', source: 'weaving', severity: 'major', hu_ids: 'E-T1', loom_id: 'L1' });
  await page.locator('[data-testid=record] dl[data-state=open]').waitFor();
  const contain = page.locator('form[data-type="ContainmentRecorded"]');
  await contain.waitFor();
  assert.equal(await contain.locator('[name=hu_ids]').inputValue(), 'E-T1', 'the units of the NC');
  await submit(page, 'ContainmentRecorded', { action: 'UM bloquées et isolées' });
  await page.locator('[data-testid=record] dl[data-state=contained]').waitFor();
  await submit(page, 'CorrectiveActionRecorded', { root_cause: 'fuite du graisseur', action: 'joint remplacé, contrôle hebdomadaire', owner_user_id: 'mechanic', due_at_us: '2027-01-20T12:00' });
  await page.locator('[data-testid=record] dl[data-state="with corrective action"]').waitFor();
  await shot(page, 'quality-nc-corrective');
  await submit(page, 'NCClosed', { effective: true, conclusion: 'plus de taches' });
  await page.locator('[data-testid=record] dl[data-state=closed]').waitFor();
  assert.equal((await api.get('/api/v1/ncs/NC-1')).state, 'closed');
  const closed = (await eventsOf('nc-NC-1')).pop();
  assert.deepEqual([closed.type, closed.payload.effective], ['NCClosed', true]);
  await shot(page, 'quality-nc-closed');
  await context.close();
});

test('quality desk: open NCs, recent inspections and units on hold, live', async () => {
  const { context, page } = await signIn('quality', { desktop: true });
  await tab(page, 'qdesk');
  await page.locator('[data-testid=live][data-state=live]').waitFor();
  const insp = page.locator('[data-testid=inspections] tbody tr', { hasText: 'E-T1' }).last();
  await insp.waitFor();
  assert.match(await insp.textContent(), /D-FIL×3, D-TACHE×1.*10 \(33\.3\/100 m²\)/, 'the first inspection, with its score');
  assert.equal(await page.locator('[data-testid=open-ncs] tr[data-key="NC-1"]').count(), 0, 'a closed NC is not listed');
  // An NC opened on another device, then a unit put on hold for it, show without a reload.
  await api.post('manager', 'NCOpened', { nc_id: 'NC-2', title: 'Lisière irrégulière', description: 'lisière ondulée sur un lot', source: 'cutting', severity: 'critical' });
  await page.locator('[data-testid=open-ncs] tr[data-key="NC-2"] [data-state=open]').waitFor();
  await api.post('quality', 'LotPutOnHold', { hu_id: 'E-T1', reason: 'lisière à reprendre', nc_id: 'NC-2' });
  const held = page.locator('[data-testid=held] tr[data-key="E-T1"]');
  await held.waitFor();
  assert.match(await held.textContent(), /lisière à reprendre.*NC-2/);
  assert.equal((await api.get('/api/v1/hus/E-T1')).status, 'on hold');
  await shot(page, 'quality-desk');
  await api.post('quality', 'LotReleased', { hu_id: 'E-T1' });
  await held.waitFor({ state: 'detached' });
  assert.equal((await api.get('/api/v1/hus/E-T1')).status, 'released');
  await context.close();
});

test('maintenance desk: interventions across looms with their durations, stopped looms, live', async () => {
  const { context, page } = await signIn('mechanic', { desktop: true });
  await tab(page, 'mdesk');
  await page.locator('[data-testid=live][data-state=live]').waitFor();
  const int1 = page.locator('[data-testid=all-interventions] tr[data-key="INT-1"]');
  await int1.waitFor();
  assert.equal(await int1.locator('[data-state]').getAttribute('data-state'), 'completed');
  for (const d of ['response', 'repair', 'total']) assert.match(await int1.locator(`[data-d=${d}]`).textContent(), /^\d+ min$/, d);
  // A stop and a request on another loom arrive live; open interventions come first.
  await api.post('weaver', 'LoomStopped', { loom_id: 'L2', stop_class: 'electrical', reason_code: 'E03', picks: 0 });
  const l2 = page.locator('[data-testid=stopped-looms] tr[data-key="L2"]');
  await l2.waitFor();
  assert.match(await l2.textContent(), /électrique.*E03/);
  assert.equal((await api.get('/api/v1/looms/L2')).stopped, true);
  await api.post('weaver', 'InterventionRequested', { int_id: 'INT-9', loom_id: 'L2', fault_class: 'electrical', urgency: 'critical' });
  await page.locator('[data-testid=all-interventions] tr[data-key="INT-9"] [data-state=requested]').waitFor();
  const states = await page.locator('[data-testid=all-interventions] tbody tr [data-state]').evaluateAll((els) => els.map((e) => e.dataset.state));
  assert.equal(states.indexOf('completed'), states.length - states.filter((x) => x === 'completed' || x === 'cancelled').length, `open first: ${states}`);
  await shot(page, 'maintenance-desk');
  await api.post('weaver', 'LoomRestarted', { loom_id: 'L2', picks: 0 });
  await l2.waitFor({ state: 'detached' });
  assert.equal((await api.get('/api/v1/looms/L2')).stopped, false);
  await context.close();
});

test('admin: the users with role and state; one invited, given another role, disabled and reactivated', async () => {
  const { context, page } = await signIn('admin', { desktop: true });
  await tab(page, 'users');
  const row = (u) => page.locator(`[data-testid=user-rows] tr[data-key="${u}"]`);
  await row('weaver').waitFor();
  assert.equal(await page.locator('[data-testid=user-rows] tbody tr').count(), 9, 'one user per role');
  assert.equal(await row('weaver').locator('[data-state]').getAttribute('data-state'), 'active');
  await submit(page, 'UserInvited', { user_id: 'U9', display_name: 'Amel Trabelsi', email: 'amel@example.tn', role: 'cutter' });
  await row('U9').locator('[data-state=invited]').waitFor();
  assert.equal(await row('U9').locator('[data-role]').getAttribute('data-role'), 'cutter');
  await row('U9').locator('[data-manage]').click();
  const change = page.locator('form[data-type="UserRoleChanged"]');
  assert.equal(await change.locator('[name=user_id]').inputValue(), 'U9');
  assert.equal(await change.locator('[name=role]').inputValue(), 'cutter', 'the current role');
  await submit(page, 'UserRoleChanged', { role: 'quality', reason: 'passe au contrôle' });
  await row('U9').locator('[data-role=quality]').waitFor();
  await submit(page, 'UserDisabled', { reason: 'contrat terminé' });
  await row('U9').locator('[data-state=disabled]').waitFor();
  await page.locator('form[data-type="UserReactivated"]:not([hidden])').waitFor();
  await shot(page, 'admin-users-disabled');
  await submit(page, 'UserReactivated', { reason: 'réembauchée' });
  await row('U9').locator('[data-state=invited]').waitFor();
  const users = await api.get('/api/v1/users');
  assert.deepEqual(users.users.find((u) => u.user_id === 'U9'), { user_id: 'U9', role: 'quality', state: 'invited' });
  assert.deepEqual((await eventsOf('user-U9')).map((e) => e.type), ['UserInvited', 'UserRoleChanged', 'UserDisabled', 'UserReactivated']);
  await shot(page, 'admin-users');
  await context.close();
});

test('spare parts: a mechanic asks for a part, the storekeeper sees it live and issues it from its line', async () => {
  await api.post('store_raw', 'GoodsReceived', { hu_id: 'SPR-1', item_id: 'PART-PICKER', qty_milli: 10000, unit: 'pcs', location_id: 'SPARES', supplier: 'Picanol' });
  const mech = await signIn('mechanic');
  await tab(mech.page, 'spares');
  await submit(mech.page, 'SparePartRequested', { pr_id: 'SP-1', item_id: 'PART-PICKER', qty_milli: '2', loom_id: 'L1', int_id: 'INT-1', urgency: 'high', note: 'taquet cassé' });
  const mine = mech.page.locator('[data-testid=spare-requests] tr[data-key="SP-1"]');
  await mine.locator('[data-state=open]').waitFor();
  const store = await signIn('store_raw');
  await tab(store.page, 'spares');
  const list = store.page.locator('[data-testid=spare-requests]');
  await list.locator('tr[data-key="SP-1"]').waitFor();
  // A critical request posted elsewhere comes in live, and first.
  await api.post('mechanic', 'SparePartRequested', { pr_id: 'SP-2', item_id: 'PART-PICKER', qty_milli: 1000, urgency: 'critical' });
  await list.locator('tr[data-key="SP-2"]').waitFor();
  assert.deepEqual(await list.locator('tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.key)), ['SP-2', 'SP-1']);
  // The issue filled in from the request's line; the unit typed names its store.
  await store.page.click('[data-issue="SP-1"]');
  const form = store.page.locator('form[data-type="SparePartIssued"]');
  const values = {};
  for (const n of ['pr_id', 'item_id', 'qty_milli', 'loom_id', 'int_id']) values[n] = await form.locator(`[name=${n}]`).inputValue();
  assert.deepEqual(values, { pr_id: 'SP-1', item_id: 'PART-PICKER', qty_milli: '2', loom_id: 'L1', int_id: 'INT-1' });
  await form.locator('[name=hu_id]').fill('SPR-1');
  await store.page.waitForFunction(() => document.querySelector('form[data-type="SparePartIssued"] [name=from_location_id]').value === 'SPARES');
  await shot(store.page, 'spares-issue');
  await submit(store.page, 'SparePartIssued', {});
  await list.locator('tr[data-key="SP-1"]').waitFor({ state: 'detached' });
  assert.equal((await api.get('/api/v1/hus/SPR-1')).qty_milli, 8000, 'two of ten left the store');
  const issued = (await eventsOf('hu-SPR-1')).find((e) => e.type === 'SparePartIssued');
  assert.deepEqual(issued.payload, { pr_id: 'SP-1', hu_id: 'SPR-1', item_id: 'PART-PICKER', qty_milli: 2000, from_location_id: 'SPARES', loom_id: 'L1', int_id: 'INT-1' });
  assert.equal(issued.actor.user, 'store_raw');
  // The mechanic's own list shows it served, live; his other request still open.
  await mine.locator('[data-state=issued]').waitFor();
  assert.equal(await mine.locator('[data-k=qty]').textContent(), '2 / 2');
  await mech.page.locator('[data-testid=spare-requests] tr[data-key="SP-2"] [data-state=open]').waitFor();
  await shot(mech.page, 'spares-mine');
  await mech.context.close();
  await store.context.close();
});

test('preventive maintenance: tasks per loom, due or overdue, one recorded done from its line', async () => {
  await api.post('manager', 'PreventiveMaintenanceScheduled', { loom_id: 'L2', task_code: 'GRS-1000H', description: 'graisser les paliers', due_at_us: (Date.now() + 14 * 86400000) * 1000, interval_days: 60 });
  const { context, page } = await signIn('mechanic');
  await tab(page, 'pm');
  const plan = page.locator('[data-testid=pm-plan]');
  await plan.locator('tr[data-key="L2/GRS-1000H"] [data-state=planned]').waitFor();
  // A monthly task first due yesterday: overdue.
  const d = new Date(Date.now() - 86400000);
  const local = new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  await submit(page, 'PreventiveMaintenanceScheduled', { loom_id: 'L1', task_code: 'LUB-500H', description: 'lubrifier le battant', due_at_us: local, interval_days: '30' });
  const row = plan.locator('tr[data-key="L1/LUB-500H"]');
  await row.locator('[data-state=overdue]').waitFor();
  assert.deepEqual(await plan.locator('tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.key)), ['L1/LUB-500H', 'L2/GRS-1000H']);
  const scheduled = (await eventsOf('loom-L1')).filter((e) => e.type === 'PreventiveMaintenanceScheduled').pop();
  assert.equal(scheduled.payload.due_at_us, new Date(local).getTime() * 1000, 'the due date in microseconds');
  await shot(page, 'pm-plan');
  // Done, from the line: loom and task filled in.
  await row.locator('[data-done="L1/LUB-500H"]').click();
  const form = page.locator('form[data-type="PreventiveMaintenanceDone"]');
  assert.equal(await form.locator('[name=loom_id]').inputValue(), 'L1');
  assert.equal(await form.locator('[name=task_code]').inputValue(), 'LUB-500H');
  await submit(page, 'PreventiveMaintenanceDone', { duration_min: '45', 'parts_used.0.item_id': 'PART-OIL', 'parts_used.0.qty_milli': '0,5', note: 'RAS' });
  // The next occurrence, 30 days after the one done, is planned.
  await row.locator('[data-state=planned]').waitFor();
  assert.match(await row.locator('[data-k=done]').textContent(), /45 min · mechanic/);
  assert.equal(await row.locator('[data-k=due]').textContent(), new Date(new Date(local).getTime() + 30 * 86400000).toLocaleString('fr-FR'));
  const done = (await eventsOf('loom-L1')).filter((e) => e.type === 'PreventiveMaintenanceDone').pop();
  assert.deepEqual(done.payload, { loom_id: 'L1', task_code: 'LUB-500H', duration_min: 45, parts_used: [{ item_id: 'PART-OIL', qty_milli: 500 }], note: 'RAS' });
  await shot(page, 'pm-done');
  await context.close();
});

test('purchase requests: asked from the form, listed open, approved and rejected by the manager', async () => {
  const q = await signIn('quality');
  await tab(q.page, 'purchases');
  const ask = q.page.locator('form[data-type="PurchaseRequested"]');
  assert.match(await ask.locator('[name=pr_id]').inputValue(), /^PR-\d{6}-\d{6}$/, 'an id made on the device');
  await submit(q.page, 'PurchaseRequested', { pr_id: 'PR-Q1', description: 'gants de contrôle', qty_milli: '10', unit: 'pcs', urgency: 'normal', reason: 'stock épuisé' });
  await q.page.locator('[data-testid=pr-open] tr[data-key="PR-Q1"] [data-state=open]').waitFor();
  assert.equal(await q.page.locator('[data-decide]').count(), 0, 'quality does not decide');
  await api.post('store_raw', 'PurchaseRequested', { pr_id: 'PR-S1', description: 'huile de graissage', qty_milli: 20000, unit: 'kg', urgency: 'high' });
  const m = await signIn('manager', { desktop: true });
  await tab(m.page, 'purchases');
  const open = m.page.locator('[data-testid=pr-open]');
  await open.locator('tr[data-key="PR-Q1"]').waitFor();
  assert.deepEqual(await open.locator('tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.key)), ['PR-S1', 'PR-Q1'], 'the urgent first');
  await shot(m.page, 'purchases-open');
  await m.page.click('[data-decide="PR-Q1"]');
  assert.equal(await m.page.locator('form[data-type="PurchaseRequestApproved"] [name=pr_id]').inputValue(), 'PR-Q1');
  await submit(m.page, 'PurchaseRequestApproved', { approved_qty_milli: '8', note: 'commander chez le fournisseur habituel' });
  await m.page.locator('[data-testid=pr-decided] tr[data-key="PR-Q1"] [data-state=approved]').waitFor();
  await m.page.click('[data-decide="PR-S1"]');
  assert.equal(await m.page.locator('form[data-type="PurchaseRequestRejected"] [name=pr_id]').inputValue(), 'PR-S1');
  await submit(m.page, 'PurchaseRequestRejected', { reason: 'il en reste au magasin' });
  await m.page.locator('[data-testid=pr-decided] tr[data-key="PR-S1"] [data-state=rejected]').waitFor();
  await m.page.locator('p[data-testid=pr-open]').waitFor();
  await shot(m.page, 'purchases-decided');
  // The requester sees the decision live.
  await q.page.locator('[data-testid=pr-decided] tr[data-key="PR-Q1"] [data-state=approved]').waitFor();
  const q1 = await eventsOf('pr-PR-Q1');
  assert.deepEqual(q1.map((e) => e.type), ['PurchaseRequested', 'PurchaseRequestApproved']);
  assert.equal(q1[0].payload.qty_milli, 10000);
  assert.equal(q1[1].payload.approved_qty_milli, 8000);
  assert.equal(q1[1].actor.user, 'manager');
  const s1 = await eventsOf('pr-PR-S1');
  assert.deepEqual(s1.map((e) => e.type), ['PurchaseRequested', 'PurchaseRequestRejected']);
  assert.equal(s1[1].payload.reason, 'il en reste au magasin');
  await q.context.close();
  await m.context.close();
});

test('no script error on any page', () => {
  assert.deepEqual(pageErrors, []);
});
