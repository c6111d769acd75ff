// Starting a real propusk server for a browser test, and reading what it logs.
//
//   const server = await startServer();      // `propusk serve` on 127.0.0.1:0, fresh data dir
//   server.base                               // 'http://127.0.0.1:PORT'
//   await server.codeFor('+79161234567')      // the last SMS sign-in code sent to that phone
//   await server.addStaff('inspector', 'officer', 'a long password')
//   await server.stop()                       // SIGTERM, waits for a clean exit, removes the
//                                             // temp dir (kept with PROPUSK_KEEP_TEST_DIRS=1)
//
// The binary is $PROPUSK_BIN, or target/debug/propusk of this repository
// (build it first: cargo build -p propusk).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function propuskBinary() {
  const bin = process.env.PROPUSK_BIN || path.join(REPO, 'target/debug/propusk');
  if (!fs.existsSync(bin)) throw new Error(`${bin} does not exist: run \`cargo build -p propusk\` first`);
  return bin;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Server {
  constructor({ bin, dataDir, workDir, process: child, base, logPath }) {
    Object.assign(this, { bin, dataDir, workDir, child, base, logPath });
  }

  /** Everything the server wrote to stderr so far. */
  log() {
    return fs.readFileSync(this.logPath, 'utf8');
  }

  /** Waits for the log gateway's `sms to=PHONE … text="…123456…"` line and returns the code. */
  async codeFor(phone, { timeoutMs = 10000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const lines = this.log().split('\n').filter((l) => l.includes(`sms to=${phone} `) && l.includes(' text='));
      const last = lines.at(-1);
      const code = last?.split(' text=')[1].match(/(?<!\d)\d{6}(?!\d)/)?.[0];
      if (code) return code;
      await sleep(50);
    }
    throw new Error(`no sign-in code for ${phone} in the server log`);
  }

  /** Runs SQL on the server's SQLite database with the `sqlite3` shell (WAL: the running server does not mind). */
  sql(statement) {
    const db = path.join(this.dataDir, 'propusk.db');
    const result = spawnSync('sqlite3', ['-cmd', '.timeout 10000', db, statement], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`sqlite3 failed: ${result.stderr}`);
    return result.stdout.trim();
  }

  /** Runs the propusk binary against this server's data directory. */
  run(args, input) {
    const result = spawnSync(this.bin, args, { input, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`propusk ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  }

  /** A staff account made with `propusk user add`, as an administrator would. */
  addStaff(role, username, password) {
    return this.run(
      ['user', 'add', '--data-dir', this.dataDir, '--role', role, '--username', username, '--password-stdin'],
      `${password}\n`,
    );
  }

  async stop() {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve(code ?? signal)));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15000);
    const code = await exited;
    clearTimeout(timer);
    if (!process.env.PROPUSK_KEEP_TEST_DIRS) fs.rmSync(this.workDir, { recursive: true, force: true });
    return code;
  }
}

/** Starts `propusk serve --data-dir TMP --listen 127.0.0.1:0` and waits for its URL. */
export async function startServer({ extraArgs = [], env = {} } = {}) {
  const bin = propuskBinary();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'propusk-browser-'));
  const dataDir = path.join(workDir, 'data');
  const logPath = path.join(workDir, 'server.log');
  const logFd = fs.openSync(logPath, 'w');
  const child = spawn(bin, ['serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0', ...extraArgs], {
    stdio: ['ignore', 'pipe', logFd],
    env: { ...process.env, PROPUSK_LOG: 'info,sqlx=warn', ...env },
  });
  fs.closeSync(logFd);
  const base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the server printed no URL in 60 s; log: ${logPath}`)), 60000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/http:\/\/127\.0\.0\.1:\d+/);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}: ${fs.readFileSync(logPath, 'utf8')}`));
    });
  });
  child.stdout.resume();
  return new Server({ bin, dataDir, workDir, process: child, base, logPath });
}
