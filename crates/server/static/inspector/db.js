// A tiny key-value store on IndexedDB: the session, the cached trust list,
// revocation list (its pages under keys of one prefix) and regime, the language,
// and the check counts not yet sent.
// IndexedDB survives restarts and, unlike localStorage, is reachable from the
// service worker too.

const DB_NAME = 'propusk-inspector';
const STORE = 'kv';

let opening = null;

function open() {
  opening ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return opening;
}

async function run(mode, action) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const req = action(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export const get = (key) => run('readonly', (s) => s.get(key));
export const set = (key, value) => run('readwrite', (s) => s.put(value, key));
export const del = (key) => run('readwrite', (s) => s.delete(key));

/** Reads, changes and writes one value in a single transaction. */
export async function update(key, change) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    let next;
    const req = store.get(key);
    req.onsuccess = () => {
      next = change(req.result);
      store.put(next, key);
    };
    tx.oncomplete = () => resolve(next);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

const range = (prefix) => IDBKeyRange.bound(prefix, `${prefix}\uffff`);

/** Every [key, value] whose key starts with `prefix`, in key order. */
export async function entries(prefix) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, 'readonly');
    const store = tx.objectStore(STORE);
    const keys = store.getAllKeys(range(prefix));
    const values = store.getAll(range(prefix));
    tx.oncomplete = () => resolve(keys.result.map((key, i) => [key, values.result[i]]));
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/**
 * Deletes every key starting with one of `clear` (prefixes), then each key of `remove`,
 * then writes `put` ([key, value] pairs), all in one transaction: a sync's page and the
 * sequence it brings the copy to are stored together or not at all.
 */
export async function write({ put = [], remove = [], clear = [] }) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    for (const prefix of clear) store.delete(range(prefix));
    for (const key of remove) store.delete(key);
    for (const [key, value] of put) store.put(value, key);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}
