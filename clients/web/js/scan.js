// QR scanning with the camera: the browser's BarcodeDetector where it exists (Chrome on Android,
// ChromeOS, macOS), else jsQR (npm, served from node_modules by foutad) on the video's frames.
// Without a camera the scan button is not shown and ids are typed.
import { h } from './dom.js';
import { t } from './i18n.js';

export function canScan() {
  return !!navigator.mediaDevices?.getUserMedia;
}

const JSQR = '/app/node_modules/jsqr/dist/jsQR.js';
let jsqrLoading = null;
function loadJsQR() {
  if (!jsqrLoading) {
    jsqrLoading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = JSQR;
      s.onload = () => (window.jsQR ? resolve(window.jsQR) : reject(new Error('jsQR')));
      s.onerror = () => {
        jsqrLoading = null;
        s.remove();
        reject(new Error('jsQR'));
      };
      document.head.append(s);
    });
  }
  return jsqrLoading;
}

// A function video -> the first QR code's text or null.
async function makeDetector() {
  if ('BarcodeDetector' in window) {
    const d = new window.BarcodeDetector({ formats: ['qr_code'] });
    return async (video) => (await d.detect(video))[0]?.rawValue ?? null;
  }
  const jsQR = await loadJsQR();
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  return async (video) => {
    const w = video.videoWidth, hgt = video.videoHeight;
    if (!w || !hgt) return null;
    canvas.width = w;
    canvas.height = hgt;
    ctx.drawImage(video, 0, 0, w, hgt);
    const code = jsQR(ctx.getImageData(0, 0, w, hgt).data, w, hgt, { inversionAttempts: 'attemptBoth' });
    return code?.data || null;
  };
}

// Opens the camera over the page; resolves the first QR code's text, or null when closed.
export async function scanOnce() {
  let detect;
  try {
    detect = await makeDetector();
  } catch {
    window.alert(t('scan.unavailable'));
    return null;
  }
  const video = h('video', { playsInline: true, muted: true });
  const close = h('button.secondary', { type: 'button' }, t('scan.close'));
  const overlay = h('div.scan-overlay', { dataset: { testid: 'scanner' } }, h('p', t('scan.aim')), video, close);
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
        const text = await detect(video);
        if (text) return finish(text);
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
