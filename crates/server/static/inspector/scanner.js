// The camera and the QR decoder: the browser's BarcodeDetector where it reads QR
// codes, otherwise jsQR in a worker (qr-worker.js). Calls onText(text) for the
// first code seen, then stops itself.

const FRAME_INTERVAL_MS = 120;
const MAX_FRAME_SIDE = 960;

async function nativeDetector() {
  if (!('BarcodeDetector' in globalThis)) return null;
  try {
    const formats = await globalThis.BarcodeDetector.getSupportedFormats();
    return formats.includes('qr_code') ? new globalThis.BarcodeDetector({ formats: ['qr_code'] }) : null;
  } catch {
    return null;
  }
}

export class Scanner {
  /**
   * @param video   the <video> element that shows the camera
   * @param onText  called with the text of the first QR code read
   * @param onState called with 'starting' | 'scanning' | 'stopped' | 'denied' | 'unavailable'
   */
  constructor(video, onText, onState) {
    this.video = video;
    this.onText = onText;
    this.onState = onState;
    this.stream = null;
    this.timer = null;
    this.worker = null;
    this.pending = new Map();
    this.nextId = 1;
    this.canvas = document.createElement('canvas');
    this.generation = 0;
  }

  get running() {
    return this.stream !== null;
  }

  async start() {
    if (this.stream) return;
    const generation = ++this.generation;
    if (!navigator.mediaDevices?.getUserMedia) {
      this.onState('unavailable');
      return;
    }
    this.onState('starting');
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 }, height: { ideal: 720 } },
        audio: false,
      });
    } catch (e) {
      this.onState(e?.name === 'NotAllowedError' || e?.name === 'SecurityError' ? 'denied' : 'unavailable');
      return;
    }
    if (generation !== this.generation) {
      // Stopped while the permission prompt was open.
      stream.getTracks().forEach((t) => t.stop());
      return;
    }
    this.stream = stream;
    this.video.srcObject = stream;
    try {
      await this.video.play();
    } catch {
      // Autoplay of a muted inline video is allowed; a failure here leaves the frames black.
    }
    this.detector ??= await nativeDetector();
    if (!this.detector && !this.worker) {
      this.worker = new Worker('qr-worker.js');
      this.worker.onmessage = (event) => {
        const resolve = this.pending.get(event.data.id);
        this.pending.delete(event.data.id);
        resolve?.(event.data.text);
      };
    }
    this.onState('scanning');
    this.schedule(generation);
  }

  stop() {
    this.generation++;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.stream) {
      this.stream.getTracks().forEach((t) => t.stop());
      this.stream = null;
      this.video.srcObject = null;
      this.onState('stopped');
    }
  }

  schedule(generation) {
    this.timer = setTimeout(() => this.tick(generation), FRAME_INTERVAL_MS);
  }

  async tick(generation) {
    if (generation !== this.generation) return;
    let text = null;
    try {
      text = await this.readFrame();
    } catch {
      text = null;
    }
    if (generation !== this.generation) return;
    if (text) {
      this.stop();
      this.onText(text);
    } else {
      this.schedule(generation);
    }
  }

  async readFrame() {
    const video = this.video;
    if (video.readyState < 2 || !video.videoWidth) return null;
    if (this.detector) {
      const codes = await this.detector.detect(video);
      return codes.find((c) => c.rawValue)?.rawValue ?? null;
    }
    const scale = Math.min(1, MAX_FRAME_SIDE / Math.max(video.videoWidth, video.videoHeight));
    const width = Math.round(video.videoWidth * scale);
    const height = Math.round(video.videoHeight * scale);
    this.canvas.width = width;
    this.canvas.height = height;
    const context = this.canvas.getContext('2d', { willReadFrequently: true });
    context.drawImage(video, 0, 0, width, height);
    const pixels = context.getImageData(0, 0, width, height).data;
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ id, width, height, data: pixels.buffer }, [pixels.buffer]);
    });
  }
}
