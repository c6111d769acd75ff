// Decodes QR codes off the main thread with jsQR (vendor/, from npm, Apache-2.0),
// for browsers without BarcodeDetector. Receives {id, width, height, data} with the
// RGBA pixels of one camera frame; answers {id, text} (text null when no code).
/* global jsQR */
importScripts('vendor/jsQR.js');

self.onmessage = (event) => {
  const { id, width, height, data } = event.data;
  let text = null;
  try {
    const code = jsQR(new Uint8ClampedArray(data), width, height, { inversionAttempts: 'dontInvert' });
    text = code ? code.data : null;
  } catch {
    text = null;
  }
  self.postMessage({ id, text });
};
