// Event ids made on the device: UUIDv7 (RFC 9562), 48 bits of Unix milliseconds then random
// bits, so ids sort by creation time; a retry sends the same id and the ledger answers 200.
export function uuidv7(now = Date.now()) {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  let ms = BigInt(now);
  for (let i = 5; i >= 0; i--) {
    b[i] = Number(ms & 0xffn);
    ms >>= 8n;
  }
  b[6] = (b[6] & 0x0f) | 0x70; // version 7
  b[8] = (b[8] & 0x3f) | 0x80; // variant 10
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// "12,5" or "12.5" in units -> 12500 thousandths, exactly (no floating point); null if not a
// number with at most three decimals.
export function toMilli(text) {
  const m = /^\s*(-?)(\d{1,13})(?:[.,](\d{1,3}))?\s*$/.exec(String(text));
  if (!m) return null;
  const milli = Number(m[2]) * 1000 + Number((m[3] || '').padEnd(3, '0'));
  return m[1] === '-' ? -milli : milli;
}

// 12500 -> "12.5" (thousandths back to units, for display).
export function fromMilli(milli) {
  if (milli === null || milli === undefined) return '';
  const neg = milli < 0;
  const abs = Math.abs(milli);
  const whole = Math.floor(abs / 1000);
  const frac = String(abs % 1000).padStart(3, '0').replace(/0+$/, '');
  return (neg ? '-' : '') + whole + (frac ? '.' + frac : '');
}
