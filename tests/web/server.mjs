// A real foutad for the browser tests: a scratch data directory, one user per role made with
// `foutad --add-user` (cheap Argon2 settings), served on a free port with the web app at /app.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';

export const TENANT = 'plant';
export const PASSWORD = 'web-test-password-1';
export const ROLES = ['admin', 'manager', 'weaver', 'cutter', 'mechanic', 'store_raw', 'store_finished', 'store_subcontract', 'quality'];

export async function startFoutad(foutad, webDir) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fouta-web-'));
  const cheap = ['--argon2-memory-kib', '64', '--argon2-passes', '1'];
  const users = ROLES.flatMap((r) => ['--add-user', `${TENANT}:${r}:${r}`]);
  execFileSync(foutad, ['--data-dir', dir, ...cheap, ...users], {
    env: { ...process.env, FOUTA_USER_PASSWORD: PASSWORD }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  const portFile = path.join(dir, 'port');
  const log = fs.openSync(path.join(dir, 'foutad.log'), 'w');
  const child = spawn(foutad, ['--data-dir', dir, '--listen', '127.0.0.1:0', '--port-file', portFile,
    '--web-dir', webDir, ...cheap], { stdio: ['ignore', log, log] });
  let exited = null;
  child.on('exit', (code, sig) => (exited = `${code ?? sig}`));
  for (let i = 0; i < 300 && !exited; i++) {
    if (fs.existsSync(portFile) && fs.readFileSync(portFile, 'utf8').trim()) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (exited || !fs.existsSync(portFile)) throw new Error(`foutad did not start (${exited}): ${fs.readFileSync(path.join(dir, 'foutad.log'), 'utf8')}`);
  const base = `http://127.0.0.1:${fs.readFileSync(portFile, 'utf8').trim()}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/health/live`)).ok) break;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = async () => {
    if (exited) return exited;
    const done = new Promise((r) => child.on('exit', (code, sig) => r(`${code ?? sig}`)));
    child.kill('SIGTERM');
    return done;
  };
  return { base, dir, stop, log: () => fs.readFileSync(path.join(dir, 'foutad.log'), 'utf8'), exited: () => exited };
}

// The API as a role, for setting the scene and checking what the ledger holds.
export class Api {
  constructor(base) {
    this.base = base;
    this.tokens = {};
  }
  async token(role) {
    if (!this.tokens[role]) {
      const res = await fetch(`${this.base}/api/v1/auth/login`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ tenant: TENANT, user: role, password: PASSWORD }),
      });
      if (!res.ok) throw new Error(`sign-in of ${role}: ${res.status} ${await res.text()}`);
      this.tokens[role] = (await res.json()).access_token;
    }
    return this.tokens[role];
  }
  async post(role, type, payload) {
    const res = await fetch(`${this.base}/api/v1/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await this.token(role)}` },
      body: JSON.stringify({ id: randomUUID(), type, occurred_at_us: Date.now() * 1000, payload }),
    });
    const body = await res.json();
    if (res.status !== 201) throw new Error(`${type} as ${role}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  }
  async get(path, role = 'manager') {
    const res = await fetch(`${this.base}${path}`, { headers: { Authorization: `Bearer ${await this.token(role)}` } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  }
}

// A plant day up to where each role's flow starts (the same story as scripts/demo).
export async function seed(api) {
  const P = (role, type, payload) => api.post(role, type, payload);
  await P('manager', 'ArticleSpecDefined', { item_id: 'TW-500', name: 'Fouta 50x90', unit: 'pcs', width_mm: 500, repeat_length_mm: 900, gsm: 450, picks_per_cm_milli: 18000, first_piece_required: true, cutting_tolerance_permille: 10, overproduction_allowed_permille: 50 });
  for (const loom of ['L1', 'L2']) await P('manager', 'LoomDefined', { loom_id: loom, name: `Picanol ${loom}`, location_id: 'WEAVING', nominal_picks_per_min: 450, terry: true });
  await P('store_raw', 'GoodsReceived', { hu_id: 'Y-WARP', item_id: 'WARP-20', qty_milli: 500000, unit: 'kg', location_id: 'MP1', supplier: 'Filature du Sahel' });
  await P('store_raw', 'BeamRegistered', { beam_id: 'BM1', item_id: 'WARP-20', position: 'ground', length_milli: 3000000, location_id: 'BEAMS', yarn_lots: [{ hu_id: 'Y-WARP', qty_milli: 300000 }] });
  await P('manager', 'OFCreated', { of_id: 'OF1', item_id: 'TW-500', planned_qty_milli: 5000000, unit: 'pcs', due_at_us: 4000000000000000, priority: 1 });
  await P('manager', 'OFReleased', { of_id: 'OF1' });
  await P('mechanic', 'BeamMounted', { beam_id: 'BM1', loom_id: 'L1', position: 'ground', length_milli: 3000000 });
  await P('weaver', 'OFStartedOnLoom', { loom_id: 'L1', of_id: 'OF1', picks: 1000 });
  await P('mechanic', 'FirstPieceInspected', { loom_id: 'L1', of_id: 'OF1', result: 'passed' });
  // Rolls for the cutter, and bundles cut and released for the stores and quality.
  const roll = (hu, picks) => P('weaver', 'ProductionDeclared', { hu_id: hu, of_id: 'OF1', loom_id: 'L1', item_id: 'TW-500', qty_milli: 120000, unit: 'pcs', location_id: 'WEAVING', length_milli: 60000, picks });
  await roll('R-CUT', 100000);
  await roll('R-SEED', 200000);
  await P('cutter', 'CuttingDeclared', {
    input_hu_id: 'R-SEED', consumed_qty_milli: 120000, unit: 'pcs', location_id: 'CUT',
    outputs: ['B-F1', 'B-F2', 'B-S1', 'B-Q1'].map((hu) => ({ hu_id: hu, item_id: 'TW-500', grade: 'first', qty_milli: 30000 })),
    waste_qty_milli: 0,
  });
  for (const hu of ['B-F1', 'B-F2', 'B-S1']) await P('quality', 'LotReleased', { hu_id: hu });
  // Two more orders queued on L1 for the planning board.
  for (const [of, seq] of [['OF2', 1], ['OF3', 2]]) {
    await P('manager', 'OFCreated', { of_id: of, item_id: 'TW-500', planned_qty_milli: 600000, unit: 'pcs', due_at_us: 4000000000000000, priority: 2 });
    await P('manager', 'OFReleased', { of_id: of });
    await P('manager', 'OFAssignedToLoom', { of_id: of, loom_id: 'L1', sequence: seq });
  }
  await P('weaver', 'InterventionRequested', { int_id: 'INT-1', loom_id: 'L1', fault_class: 'mechanical', urgency: 'high', description: 'bruit au battant' });
}
