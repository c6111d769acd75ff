// Location reports: one watchPosition while the app is open, a fix kept at the cadence the
// server sets (the newest the watch delivered, or a fresh one asked for when it delivered
// none), every fix written to the durable queue in IndexedDB first, then uploaded in
// batches with retry and exponential backoff.
//
// - Nothing collected is lost before it is acknowledged: a fix leaves the queue only after
//   a 202 for the batch that carried it. A batch whose answer was lost is sent again; the
//   server keys reports by device and second, so it counts them once (it says "duplicates").
// - Fixes are stamped with the phone's clock corrected to the server's (config.server_time),
//   so a phone whose clock is off still reports the right times.
// - The server takes reports up to 48 hours late: older ones are dropped and counted; one it
//   refuses by index is dropped and counted too (it can never be accepted), the rest go on.
// - No timer runs more often than every 30 seconds while the app is idle.

import * as db from './db.js';
import { api, ApiError, Offline } from './api.js';

const BATCH = 500;
const MAX_LATE_MS = 48 * 3600 * 1000;
const BACKOFF_MIN_MS = 30 * 1000;
const BACKOFF_MAX_MS = 10 * 60 * 1000;
/** The last position is sent again, when the browser gives no new one, for this long. */
const REPEAT_WITHIN_MS = 15 * 60 * 1000;

export class Reporter {
  /**
   * `events`: onStatus(), onRetired(error), onChallenges() (the server says check-ins are
   * open), onLocationProblem(kind | null) ('denied', 'unavailable', 'storage').
   */
  constructor(events) {
    this.events = events;
    this.watch = null;
    this.latest = null; // {coords, receivedAt}
    this.recordedAt = 0; // when the last fix was kept (corrected clock, ms)
    this.cadence = null;
    this.retry = null;
    this.backoff = BACKOFF_MIN_MS;
    this.flushing = null;
    this.device = null;
    this.offset = 0;
    this.everyMs = 60_000;
  }

  /** The phone's clock corrected to the server's, ms. */
  now() {
    return Date.now() + this.offset;
  }

  /** A fix as received now, on whole seconds (the server keys reports by the second). */
  received(position) {
    this.latest = { coords: position.coords, receivedAt: Math.floor(this.now() / 1000) * 1000 };
    return this.latest;
  }

  start(device, config, offset) {
    this.device = device;
    this.offset = offset;
    this.everyMs = Math.max(30, config.report_every_secs) * 1000;
    this.watchLocation();
    clearInterval(this.cadence);
    this.cadence = setInterval(() => this.tick(), this.everyMs);
    this.flush();
  }

  setOffset(offset) {
    this.offset = offset;
  }

  stop() {
    if (this.watch !== null) navigator.geolocation.clearWatch(this.watch);
    this.watch = null;
    clearInterval(this.cadence);
    clearTimeout(this.retry);
    this.cadence = null;
    this.retry = null;
    this.device = null;
  }

  /** (Re)starts the one watch: after a refusal the patient may allow it and try again. */
  watchLocation() {
    if (!('geolocation' in navigator)) {
      this.events.onLocationProblem('unavailable');
      return;
    }
    if (this.watch !== null) navigator.geolocation.clearWatch(this.watch);
    this.watch = navigator.geolocation.watchPosition(
      (position) => this.seen(position),
      (error) => this.failed(error),
      { enableHighAccuracy: true, maximumAge: 0, timeout: 120_000 },
    );
  }

  seen(position) {
    this.events.onLocationProblem(null);
    const first = this.latest === null;
    const fix = this.received(position);
    // The first fix is kept at once; later ones at the cadence (tick).
    if (first) this.keep(fix);
  }

  failed(error) {
    if (error.code === error.PERMISSION_DENIED) this.events.onLocationProblem('denied');
    else if (error.code === error.POSITION_UNAVAILABLE) this.events.onLocationProblem('unavailable');
    // A timeout just means no fix yet: the cadence asks again.
  }

  /**
   * At the cadence: keep the newest fix, or ask for a fresh one if none came since. A browser
   * that delivers nothing new (some deliver positions only when they change) gets the last
   * position sent again, if recent: the evaluator reads a repeat as a sign of life only, never
   * as a second observation of where the phone is.
   */
  tick() {
    if (this.latest && this.latest.receivedAt > this.recordedAt) {
      this.keep(this.latest);
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (position) => {
        this.events.onLocationProblem(null);
        this.keep(this.received(position));
      },
      (error) => {
        const recent = this.latest && this.now() - this.latest.receivedAt <= REPEAT_WITHIN_MS;
        if (error.code === error.TIMEOUT && recent) {
          this.keep({ coords: this.latest.coords, receivedAt: Math.floor(this.now() / 1000) * 1000 });
        } else {
          this.failed(error);
        }
      },
      { enableHighAccuracy: true, maximumAge: 0, timeout: 20_000 },
    );
  }

  /** A fresh fix for a check-in answer: the watch's last if at most two minutes old, else a new one. */
  fresh(maxAgeMs = 2 * 60_000) {
    if (this.latest && this.now() - this.latest.receivedAt <= maxAgeMs) return Promise.resolve(this.latest);
    return new Promise((resolve, reject) => {
      navigator.geolocation.getCurrentPosition(
        (position) => resolve(this.received(position)),
        reject,
        { enableHighAccuracy: true, maximumAge: 0, timeout: 30_000 },
      );
    });
  }

  async keep({ coords, receivedAt: at }) {
    // A position that arrives after the app stopped (a retired device) is not kept.
    if (!this.device || at <= this.recordedAt) return;
    this.recordedAt = at;
    const fix = {
      ts: new Date(at).toISOString(),
      lat: coords.latitude,
      lon: coords.longitude,
      accuracy_m: Math.round(coords.accuracy * 10) / 10,
    };
    const status = (await db.get('status').catch(() => null)) ?? {};
    status.lastFix = { at, accuracy: fix.accuracy_m };
    try {
      await db.addFix(fix);
      await db.set('status', status);
      this.events.onLocationProblem(null);
    } catch (e) {
      // A full storage quota: say so, and send this one straight away if we can.
      this.events.onLocationProblem('storage');
      this.upload([fix]).catch(() => {});
    }
    this.events.onStatus();
    this.flush();
  }

  /** Uploads everything queued, batch by batch; one flush at a time. */
  flush() {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  async drain() {
    if (!this.device) return;
    clearTimeout(this.retry);
    this.retry = null;
    try {
      for (;;) {
        const batch = await db.oldestFixes(BATCH);
        if (batch.length === 0) break;
        const tooOld = batch.filter(({ fix }) => this.now() - Date.parse(fix.ts) > MAX_LATE_MS);
        if (tooOld.length) {
          await db.deleteFixes(tooOld.map((b) => b.key));
          await this.note({ refused: tooOld.length });
          continue;
        }
        const answer = await this.upload(batch.map((b) => b.fix)).catch(async (e) => {
          if (e instanceof ApiError && e.status === 422 && Number.isInteger(e.index) && batch[e.index]) {
            // This one report can never be accepted: drop it, send the rest.
            await db.deleteFixes([batch[e.index].key]);
            await this.note({ refused: 1 });
            return null;
          }
          throw e;
        });
        if (answer === null) continue;
        await db.deleteFixes(batch.map((b) => b.key));
        await this.note({ lastUpload: this.now() });
        if (answer.open_challenges > 0) this.events.onChallenges();
      }
      this.backoff = BACKOFF_MIN_MS;
    } catch (e) {
      if (e instanceof ApiError && (e.retired || e.unknownDevice)) {
        this.events.onRetired(e);
        return;
      }
      // Offline, overloaded or a server error: try again later, waiting longer each time.
      this.retry = setTimeout(() => this.flush(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
      this.events.onStatus(e instanceof Offline ? 'offline' : 'retrying');
      return;
    }
    this.events.onStatus();
  }

  upload(fixes) {
    return api('/api/v1/device/locations', { method: 'POST', body: fixes, token: this.device.token });
  }

  /** Online again: send what waits now instead of at the next retry. */
  online() {
    this.backoff = BACKOFF_MIN_MS;
    this.flush();
  }

  async note(change) {
    const status = (await db.get('status')) ?? {};
    if (change.refused) status.refused = (status.refused ?? 0) + change.refused;
    if (change.lastUpload) status.lastUpload = change.lastUpload;
    await db.set('status', status);
  }
}
