// A fake camera picture for Chromium: a PNG (the pass's QR code) centred on a white
// 640×480 frame, written as Y4M (YUV 4:2:0: the Y plane is the grey image, U and V
// are 128). Chromium's --use-file-for-fake-video-capture plays it in a loop.
//
//   writeY4m(fs.readFileSync('qr.png'), '/tmp/qr.y4m');
import fs from 'node:fs';
import zlib from 'node:zlib';

/** Decodes an 8-bit PNG (grey, grey+alpha, RGB or RGBA; no interlace) to grey pixels. */
export function decodePngGrey(png) {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!png.subarray(0, 8).equals(signature)) throw new Error('not a PNG');
  let at = 8;
  let header = null;
  const data = [];
  while (at < png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const body = png.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      header = {
        width: body.readUInt32BE(0), height: body.readUInt32BE(4),
        depth: body[8], color: body[9], interlace: body[12],
      };
    } else if (type === 'IDAT') {
      data.push(body);
    } else if (type === 'IEND') {
      break;
    }
    at += 12 + length;
  }
  const { width, height, depth, color, interlace } = header;
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[color];
  if (depth !== 8 || !channels || interlace) throw new Error(`unsupported PNG: depth ${depth}, colour type ${color}`);
  const raw = zlib.inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + x] = (line[x] + predictor) & 0xff;
    }
  }
  const grey = Buffer.alloc(width * height);
  for (let i = 0; i < width * height; i++) {
    const p = pixels.subarray(i * channels, (i + 1) * channels);
    const value = channels >= 3 ? Math.round(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]) : p[0];
    const alpha = channels === 2 ? p[1] : channels === 4 ? p[3] : 255;
    grey[i] = Math.round((value * alpha + 255 * (255 - alpha)) / 255); // on white
  }
  return { width, height, grey };
}

/** Writes `png` centred on a white WIDTH×HEIGHT frame as a Y4M file with `frames` frames. */
export function writeY4m(png, file, { width = 640, height = 480, fill = 0.9, frames = 2 } = {}) {
  const image = decodePngGrey(png);
  const scale = Math.min((width * fill) / image.width, (height * fill) / image.height);
  const w = Math.floor(image.width * scale);
  const h = Math.floor(image.height * scale);
  const left = Math.floor((width - w) / 2);
  const top = Math.floor((height - h) / 2);
  const y = Buffer.alloc(width * height, 255);
  for (let row = 0; row < h; row++) {
    const sy = Math.min(image.height - 1, Math.floor(row / scale));
    for (let col = 0; col < w; col++) {
      const sx = Math.min(image.width - 1, Math.floor(col / scale));
      y[(top + row) * width + left + col] = image.grey[sy * image.width + sx];
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, chroma]);
  const parts = [Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`)];
  for (let i = 0; i < frames; i++) parts.push(frame);
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, Buffer.concat(parts));
  fs.renameSync(tmp, file); // Chromium never sees a half-written file
  return file;
}

/** A plain white picture: the camera sees no code. */
export function writeBlankY4m(file, { width = 640, height = 480 } = {}) {
  const frame = Buffer.concat([
    Buffer.from('FRAME\n'), Buffer.alloc(width * height, 255), Buffer.alloc((width * height) / 2, 128),
  ]);
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`), frame, frame]));
  fs.renameSync(tmp, file);
  return file;
}
