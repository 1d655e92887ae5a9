// QR scanning with the camera through the browser's BarcodeDetector where it exists (Chrome on
// Android, ChromeOS, macOS); elsewhere the scan button is not shown and ids are typed.
import { h } from './dom.js';
import { t } from './i18n.js';

export function canScan() {
  return 'BarcodeDetector' in window && !!navigator.mediaDevices?.getUserMedia;
}

// Opens the camera over the page; resolves the first QR code's text, or null when closed.
export async function scanOnce() {
  const detector = new window.BarcodeDetector({ formats: ['qr_code'] });
  const video = h('video', { playsInline: true, muted: true });
  const close = h('button.secondary', { type: 'button' }, t('scan.close'));
  const overlay = h('div.scan-overlay', h('p', t('scan.aim')), video, close);
  document.body.append(overlay);
  let stream;
  let done = false;
  return new Promise(async (resolve) => {
    const finish = (value) => {
      if (done) return;
      done = true;
      stream?.getTracks().forEach((tr) => tr.stop());
      overlay.remove();
      resolve(value);
    };
    close.addEventListener('click', () => finish(null));
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
      video.srcObject = stream;
      await video.play();
    } catch {
      finish(null);
      return;
    }
    const tick = async () => {
      if (done) return;
      try {
        const codes = await detector.detect(video);
        if (codes.length) return finish(codes[0].rawValue);
      } catch {
        /* a frame not ready yet */
      }
      setTimeout(tick, 200);
    };
    tick();
  });
}

// A label's QR code carries the unit's id, possibly as "hu-R1" or a URL ending in it.
export function idFromCode(text) {
  const last = String(text).trim().split('/').pop();
  return last.startsWith('hu-') ? last.slice(3) : last;
}
