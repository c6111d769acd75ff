// What the app keeps on the phone, in one IndexedDB database ('propusk-patient'), and
// only once the phone is enrolled (before that nothing is stored at all):
//   kv       'device' {token, caseId, kind}, 'config' (GET /api/v1/device/config),
//            'lang', 'status' {lastFix, lastUpload, refused}, 'offset' (server − phone clock, ms)
//   fixes    the durable queue of location reports: every fix is written here first and
//            deleted only when the server has acknowledged it
//   answers  check-in answers taken offline, sent later with the time they were taken
// erase() deletes the whole database (a retired device).

const NAME = 'propusk-patient';
let opening = null;
/** After erase(), nothing may bring the database back until a new enrollment. */
let erased = false;

function open() {
  if (erased) return Promise.reject(new Error('the app erased its data'));
  opening ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(NAME, 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore('kv');
      db.createObjectStore('fixes', { autoIncrement: true });
      db.createObjectStore('answers', { keyPath: 'id' });
    };
    req.onsuccess = () => {
      // Another tab deleting the database must not wait for this one.
      req.result.onversionchange = () => req.result.close();
      resolve(req.result);
    };
    req.onerror = () => {
      opening = null;
      reject(req.error);
    };
  });
  return opening;
}

/** Runs `work(stores…)` in one transaction; resolves with its result when it commits. */
async function run(names, mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(names, mode);
    let result;
    Promise.resolve(work(...names.map((n) => tx.objectStore(n)))).then((r) => {
      result = r;
    }, reject);
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

const request = (req) => new Promise((resolve, reject) => {
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => reject(req.error);
});

export const get = (key) => run(['kv'], 'readonly', (kv) => request(kv.get(key)));
export const set = (key, value) => run(['kv'], 'readwrite', (kv) => request(kv.put(value, key)));

/** Appends a fix to the queue (before it is uploaded); resolves with its key. */
export const addFix = (fix) => run(['fixes'], 'readwrite', (s) => request(s.add(fix)));

/** The oldest `limit` queued fixes as [{key, fix}]. */
export const oldestFixes = (limit) => run(['fixes'], 'readonly', async (s) => {
  const [keys, values] = await Promise.all([
    request(s.getAllKeys(null, limit)),
    request(s.getAll(null, limit)),
  ]);
  return keys.map((key, i) => ({ key, fix: values[i] }));
});

/** Deletes acknowledged fixes. */
export const deleteFixes = (keys) => run(['fixes'], 'readwrite', (s) => {
  for (const key of keys) s.delete(key);
});

export const countFixes = () => run(['fixes'], 'readonly', (s) => request(s.count()));

export const putAnswer = (answer) => run(['answers'], 'readwrite', (s) => request(s.put(answer)));
export const allAnswers = () => run(['answers'], 'readonly', (s) => request(s.getAll()));
export const deleteAnswer = (id) => run(['answers'], 'readwrite', (s) => request(s.delete(id)));

/** A new enrollment: the database may be made again. */
export function revive() {
  erased = false;
}

/** Closes and deletes the whole database; until revive(), nothing reopens it. */
export async function erase() {
  erased = true;
  const pending = opening;
  opening = null;
  if (pending) (await pending.catch(() => null))?.close();
  await new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(NAME);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error);
  });
}
