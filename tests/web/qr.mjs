// A camera for the scanning test: the QR code of a label foutad rendered (its SVG path, one
// square per dark module) drawn into a YUV4MPEG2 video that Chromium plays as its fake camera
// (--use-file-for-fake-video-capture).
import fs from 'node:fs';

export function labelSvgToY4m(svg, file, { width = 640, height = 480, px = 8 } = {}) {
  const d = /<path fill="#000" d="([^"]*)"/.exec(svg)?.[1];
  if (!d) throw new Error('no QR path in the label');
  const modules = [...d.matchAll(/M(\d+) (\d+)h(\d+)/g)].map((m) => [Number(m[1]) / Number(m[3]), Number(m[2]) / Number(m[3])]);
  const size = Math.max(...modules.flat()) + 1;
  const ox = Math.floor((width - size * px) / 2), oy = Math.floor((height - size * px) / 2);
  const y = Buffer.alloc(width * height, 255);
  for (const [mx, my] of modules) {
    for (let r = 0; r < px; r++) y.fill(0, (oy + my * px + r) * width + ox + mx * px, (oy + my * px + r) * width + ox + (mx + 1) * px);
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2), 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, chroma, chroma]);
  fs.writeFileSync(file, Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`), frame, frame]));
}
