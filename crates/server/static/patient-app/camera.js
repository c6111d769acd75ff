// The front camera for a selfie (getUserMedia), and the file input fallback. Both give a
// JPEG of at most 640 px a side, as base64 (the API takes up to 1 MB).

const MAX_SIDE = 640;
const QUALITY = 0.85;

/** A canvas's picture as base64 JPEG (without the data: prefix). */
async function jpeg(source, width, height) {
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  canvas.getContext('2d').drawImage(source, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', QUALITY));
  if (!blob) throw new Error('the picture could not be encoded');
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { base64: btoa(binary), url: URL.createObjectURL(blob) };
}

export class Camera {
  constructor(video) {
    this.video = video;
    this.stream = null;
  }

  /** Starts the front camera: 'ok', 'denied' (permission refused) or 'unavailable'. */
  async start() {
    if (!navigator.mediaDevices?.getUserMedia) return 'unavailable';
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: 'user', width: { ideal: 640 }, height: { ideal: 640 } },
        audio: false,
      });
    } catch (e) {
      return e.name === 'NotAllowedError' || e.name === 'SecurityError' ? 'denied' : 'unavailable';
    }
    this.video.srcObject = this.stream;
    await this.video.play().catch(() => {});
    if (!this.video.videoWidth) {
      await new Promise((resolve) => this.video.addEventListener('loadedmetadata', resolve, { once: true }));
    }
    return 'ok';
  }

  get running() {
    return this.stream !== null;
  }

  /** The current frame as a JPEG. */
  capture() {
    return jpeg(this.video, this.video.videoWidth, this.video.videoHeight);
  }

  stop() {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    this.video.srcObject = null;
  }
}

/** A chosen or camera-taken file as a JPEG. */
export async function fileToJpeg(file) {
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return await jpeg(img, img.naturalWidth, img.naturalHeight);
  } finally {
    URL.revokeObjectURL(url);
  }
}
