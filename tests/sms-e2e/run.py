#!/usr/bin/env python3
"""The SMS channel end to end, through a real Kannel.

Starts propusk (`propusk serve` with the kannel gateway), Kannel's bearerbox and smsbox with
deploy/kannel/kannel.conf, and Kannel's fakesmsc as the operator, then:

1. Round trip: a phone registers by SMS and sends `ПРОПУСК 3`; fakesmsc receives the answer
   with a short code, which an inspector (made with `propusk user add --role inspector
   --password-stdin`) verifies as valid through /api/v1/verify; delivery reports arrive.
2. Gateway restart: Kannel is stopped; three registered phones ask for passes (the messages
   reach /api/v1/sms/inbound as smsbox delivers them; the answers wait in the outbox);
   propusk is killed and started again; Kannel is started again; each of the three answers
   arrives once.
3. propusk restart under traffic: three messages go through fakesmsc while propusk is killed
   and restarted; smsbox retries; each answer arrives once.

Finally every message ever sent by a phone has exactly one answer at fakesmsc, and the
outbox is empty with nothing failed. Prints `sms-e2e: N passed, M failed`; exit status 1 on
any failure. Everything listens on 127.0.0.1 on the ports kannel.conf names (14000, 14001,
14010, 14013, and 14080 for propusk, from the sms-service's get-url). Bounded to 4 minutes; every process it starts is
stopped at the end.

    python3 tests/sms-e2e/run.py [--propusk target/debug/propusk] [--database-url postgres://…]

Needs Debian's `kannel` and `kannel-extras` (fakesmsc in /usr/lib/kannel/test).
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONF = os.path.join(ROOT, "deploy", "kannel", "kannel.conf")
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
DEADLINE = 240  # seconds for the whole run
SHORT_CODE = re.compile(r"\b[0-9A-Z]{3}-[0-9A-Z]{3}-[0-9A-Z]{3}\b")


def kannel_conf(path):
    """The groups of a Kannel configuration file: a list of (group name, {key: value})."""
    groups, current = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, _, value = line.partition("=")
            key, value = key.strip(), value.strip().strip('"')
            if key == "group":
                current = (value, {})
                groups.append(current)
            elif current is not None:
                current[1][key] = value
    return groups


def group(groups, name):
    return next(g for n, g in groups if n == name)


class Run:
    def __init__(self, args):
        self.args = args
        self.propusk_bin = os.path.abspath(args.propusk)
        self.work = tempfile.mkdtemp(prefix="propusk-sms-e2e-")
        self.procs = {}
        self.passed = 0
        self.failed = 0
        self.received = []  # (phone, text) for every complete message fakesmsc got
        self.parts = {}  # (sender, receiver, ref) -> {seq: bytes}
        self.lock = threading.Lock()
        self.fake_log = open(os.path.join(self.work, "fakesmsc.log"), "a", encoding="utf-8")
        self.sent_by_phone = {}  # phone -> number of messages sent that need an answer
        self.fake_sent = 0  # lines the running fakesmsc has sent

        groups = kannel_conf(CONF)
        core, smsbox = group(groups, "core"), group(groups, "smsbox")
        smsc = group(groups, "smsc")
        user = group(groups, "sendsms-user")
        service = group(groups, "sms-service")
        get_url = urllib.parse.urlsplit(service["get-url"])
        self.propusk_port = get_url.port
        self.secret = urllib.parse.parse_qs(get_url.query)["secret"][0]
        self.admin = (int(core["admin-port"]), core["admin-password"])
        self.box_port = int(core["smsbox-port"])
        self.sendsms_port = int(smsbox["sendsms-port"])
        self.fake_port = int(smsc["port"])
        self.short_number = smsbox["global-sender"]
        self.base = f"http://127.0.0.1:{self.propusk_port}"
        # Only this run's settings: nothing from the caller's PROPUSK_* environment.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PROPUSK_")}
        self.env.update({
            "PROPUSK_DATA_DIR": os.path.join(self.work, "data"),
            "PROPUSK_LISTEN": f"127.0.0.1:{self.propusk_port}",
            "PROPUSK_SMS_GATEWAY": "kannel",
            "PROPUSK_SMS_KANNEL_URL": f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms",
            "PROPUSK_SMS_KANNEL_USERNAME": user["username"],
            "PROPUSK_SMS_KANNEL_PASSWORD": user["password"],
            "PROPUSK_SMS_KANNEL_FROM": self.short_number,
            "PROPUSK_SMS_DLR_URL": f"{self.base}/api/v1/sms/dlr",
            "PROPUSK_SMS_INBOUND_SECRET": self.secret,
            "PROPUSK_SMS_LEASE_SECS": "10",
            "PROPUSK_LOG": "info,sqlx=warn",
        })
        if args.database_url:
            self.env["PROPUSK_DATABASE_URL"] = args.database_url
        os.makedirs(os.path.join(self.work, "kannel"))
        self.propusk_starts = 0

    # -- bookkeeping -------------------------------------------------------------------

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name} {detail}", flush=True)
        return ok

    def wait(self, what, predicate, timeout=30.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = predicate()
            if value:
                return value
            time.sleep(0.2)
        raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")

    # -- processes ---------------------------------------------------------------------

    def spawn(self, name, argv, cwd=None, env=None, stdin=None, stderr=None):
        log = open(os.path.join(self.work, f"{name}.log"), "ab")
        proc = subprocess.Popen(argv, cwd=cwd or self.work, env=env or self.env, stdin=stdin,
                                stdout=log, stderr=stderr or subprocess.STDOUT,
                                start_new_session=True)
        self.procs[name] = proc
        return proc

    def stop(self, name, sig=signal.SIGTERM, timeout=15):
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def stop_all(self):
        for name in list(self.procs):
            self.stop(name, timeout=5)

    @staticmethod
    def listening(port):
        with socket.socket() as s:
            s.settimeout(0.3)
            return s.connect_ex(("127.0.0.1", port)) == 0

    def start_propusk(self):
        self.propusk_starts += 1
        self.spawn(f"propusk-{self.propusk_starts}", [self.propusk_bin, "serve"])
        self.procs["propusk"] = self.procs.pop(f"propusk-{self.propusk_starts}")
        self.wait("propusk to be ready", lambda: self.http_ok(f"{self.base}/readyz"), 60)

    def start_kannel(self):
        kdir = os.path.join(self.work, "kannel")
        self.spawn("bearerbox", ["bearerbox", CONF], cwd=kdir)
        self.wait("bearerbox's admin port", lambda: self.listening(self.admin[0]))
        self.spawn("smsbox", ["smsbox", CONF], cwd=kdir)
        self.wait("smsbox's sendsms port", lambda: self.listening(self.sendsms_port))
        with self.lock:
            self.fake_sent = 0
        proc = self.spawn("fakesmsc", [FAKESMSC, "-H", "127.0.0.1", "-r", str(self.fake_port),
                                       "-i", "0.01"],
                          stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        threading.Thread(target=self.read_fakesmsc, args=(proc,), daemon=True).start()
        self.wait("the fake SMSC to be online", self.smsc_online)

    def stop_kannel(self):
        self.stop("fakesmsc")
        self.stop("smsbox")
        self.stop("bearerbox")
        for port in (self.admin[0], self.box_port, self.sendsms_port, self.fake_port):
            self.wait(f"port {port} to close", lambda p=port: not self.listening(p))

    def smsc_online(self):
        port, password = self.admin
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/status.txt?password={password}", timeout=2
            ) as r:
                status = r.read().decode("utf-8", "replace")
        except OSError:
            return False
        return any("fake" in line and "online" in line for line in status.splitlines())

    # -- the operator ------------------------------------------------------------------

    def read_fakesmsc(self, proc):
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.fake_log.write(line + "\n")
            self.fake_log.flush()
            m = re.search(r"Got message \d+: <(.*)>$", line)
            if m:
                self.take(m.group(1))
            elif re.search(r"fakesmsc: sent message \d+$", line):
                with self.lock:
                    self.fake_sent += 1

    def take(self, line):
        """One line fakesmsc got from Kannel: `from to type data` (see smsc_fake.c)."""
        fields = line.split(" ")
        if len(fields) < 4:
            return
        sender, receiver, kind = fields[0], fields[1], fields[2]
        if kind == "udh":
            udh = unquote(fields[3])
            data = unquote(fields[5]) if len(fields) > 5 else b""
            ref, total, seq = concat_info(udh)
            if total is None:
                self.deliver(receiver, decode(data))
                return
            with self.lock:
                parts = self.parts.setdefault((sender, receiver, ref), {})
                parts[seq] = data
                if len(parts) < total:
                    return
                del self.parts[(sender, receiver, ref)]
            self.deliver(receiver, decode(b"".join(parts[i] for i in sorted(parts))))
        elif kind == "ucs-2":
            self.deliver(receiver, unquote(fields[3]).decode("utf-16-be", "replace"))
        elif kind == "data":
            self.deliver(receiver, decode(unquote(fields[3])))
        else:
            self.deliver(receiver, " ".join(fields[3:]))

    def deliver(self, phone, text):
        with self.lock:
            self.received.append((phone, text))
        print(f"     phone {phone} got: {text}", flush=True)

    def answers(self, phone):
        with self.lock:
            return [t for p, t in self.received if p == phone]

    def send(self, phone, text):
        """A phone sends a message through the operator. fakesmsc reads its input with
        select() and stdio, so a second line written before it took the first would sit in
        its buffer: each line waits until fakesmsc reports it sent."""
        self.sent_by_phone[phone] = self.sent_by_phone.get(phone, 0) + 1
        with self.lock:
            before = self.fake_sent
        proc = self.procs["fakesmsc"]
        proc.stdin.write(f"{phone} {self.short_number} text {text}\n".encode("utf-8"))
        proc.stdin.flush()
        self.wait("fakesmsc to send the message", lambda: self.fake_sent > before, 10)

    def send_direct(self, phone, text, msg_id):
        """A message as smsbox hands it to propusk (another smsbox, while ours is down)."""
        self.sent_by_phone[phone] = self.sent_by_phone.get(phone, 0) + 1
        query = urllib.parse.urlencode({
            "from": phone, "to": self.short_number, "text": text, "id": msg_id,
            "coding": "0", "charset": "UTF-8", "secret": self.secret,
        })
        with urllib.request.urlopen(f"{self.base}/api/v1/sms/inbound?{query}", timeout=10) as r:
            return r.status

    def answer_after(self, phone, n, timeout=30.0):
        return self.wait(f"answer {n + 1} to {phone}",
                         lambda: (self.answers(phone)[n:] or [None])[0], timeout)

    # -- propusk -----------------------------------------------------------------------

    @staticmethod
    def http_ok(url):
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def post_json(self, path, body, token=None):
        req = urllib.request.Request(f"{self.base}{path}", data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
        if token:
            req.add_header("authorization", f"Bearer {token}")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def propusk(self, *argv, stdin=None):
        return subprocess.run([self.propusk_bin, *argv], env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=60)

    def sms_status(self):
        out = self.propusk("sms", "status", "--json")
        if out.returncode != 0:
            raise RuntimeError(f"propusk sms status failed: {out.stderr}")
        return json.loads(out.stdout)

    # -- the scenario ------------------------------------------------------------------

    def scenario(self):
        phone = "+79161230001"
        friends = ["+79161230002", "+79161230003", "+79161230004"]
        stranger = "+79161230005"
        self.start_propusk()
        self.start_kannel()

        # 1. Round trip through Kannel.
        self.send(phone, "РЕГИСТРАЦИЯ#Иванов Иван Иванович#4510123456")
        answer = self.answer_after(phone, 0)
        self.check("registration by SMS through Kannel is answered", "И.И. 3456" in answer, answer)
        self.send(phone, "ПРОПУСК 3")
        answer = self.answer_after(phone, 1)
        code = SHORT_CODE.search(answer)
        self.check("ПРОПУСК 3 through fakesmsc is answered with a short code", code, answer)
        made = self.propusk("user", "add", "--role", "inspector", "--username", "e2e-inspector",
                            "--password-stdin", stdin="e2e inspector password\n")
        self.check("propusk user add --role inspector --password-stdin", made.returncode == 0,
                   made.stderr)
        token = self.post_json("/api/v1/auth/login", {
            "username": "e2e-inspector", "password": "e2e inspector password"})["token"]
        verdict = self.post_json("/api/v1/verify", {"short_code": code.group(0)}, token)
        self.check("the short code verifies as valid", verdict.get("verdict") == "valid"
                   and verdict.get("holder") == "И.И. 3456", verdict)
        for n, friend in enumerate(friends):
            self.send(friend, f"регистрация петров пётр {4510000001 + n}")
        for friend in friends:
            self.answer_after(friend, 0)
        status = self.wait("delivery reports", lambda: (
            lambda s: s if s["delivery"]["delivered"] >= 5 else None)(self.sms_status()))
        self.check("Kannel's delivery reports mark the answers delivered",
                   status["delivery"]["delivered"] == 5, status)

        # 2. Kannel stops; three passes are asked for (the messages reach propusk as smsbox
        #    delivers them); propusk is killed and started again; Kannel comes back: each of
        #    the three answers arrives once.
        self.stop_kannel()
        for purpose, friend in zip((4, 5, 6), friends):
            sent = self.send_direct(friend, f"ПРОПУСК {purpose}", f"e2e-while-down-{purpose}")
            self.check(f"{friend}: ПРОПУСК {purpose} accepted while Kannel is down", sent == 202)
        queued = self.wait("three answers in the outbox", lambda: (
            lambda s: s if s["queue"]["pending"] + s["queue"]["sending"] == 3 else None)(self.sms_status()))
        self.check("the three answers wait in the outbox", queued["sent"] == 5, queued)
        self.stop("propusk", signal.SIGKILL)
        self.start_propusk()
        status = self.sms_status()
        self.check("the queue survives propusk being killed",
                   status["queue"]["pending"] + status["queue"]["sending"] == 3, status)
        self.start_kannel()
        self.wait("the three queued answers",
                  lambda: all(len(self.answers(f)) >= 2 for f in friends), 90)
        time.sleep(3)
        for friend in friends:
            got = self.answers(friend)[1:]
            self.check(f"{friend}: the queued pass arrives exactly once",
                       len(got) == 1 and SHORT_CODE.search(got[0]), got)

        # 3. propusk is killed while phones are texting; smsbox retries; each answered once.
        self.send(phone, "ПРОПУСК 2")
        self.send(friends[0], "ПОМОЩЬ")
        self.send(stranger, "ПРОПУСК 3")
        self.stop("propusk", signal.SIGKILL)
        time.sleep(3)
        self.start_propusk()
        self.wait("answers after the restart", lambda: len(self.answers(phone)) >= 3
                  and len(self.answers(friends[0])) >= 3 and self.answers(stranger), 90)
        self.check("a pass asked for across the restart arrives",
                   "Посещение медицинской" in self.answers(phone)[2], self.answers(phone))
        self.check("ПОМОЩЬ lists the purpose codes", "ПРОПУСК 3" in self.answers(friends[0])[2],
                   self.answers(friends[0]))
        self.check("a stranger's ПРОПУСК 3 gets the registration instructions",
                   "РЕГИСТРАЦИЯ#" in self.answers(stranger)[0], self.answers(stranger))

        # Nothing lost, nothing doubled.
        time.sleep(12)  # longer than the lease: anything in doubt would have gone out again
        for p, n in self.sent_by_phone.items():
            got = self.answers(p)
            self.check(f"{p}: {n} messages sent, {n} answers", len(got) == n, got)
        status = self.sms_status()
        self.check("the outbox is empty and nothing failed",
                   status["queue"]["pending"] == 0 and status["queue"]["sending"] == 0
                   and status["failed"] == 0, status)
        self.check("every answer went out once", status["sent"] == sum(self.sent_by_phone.values()),
                   status)
        self.check("segments are counted", status["segments"] > status["sent"], status)
        text = self.propusk("sms", "status")
        print(text.stdout.rstrip())
        self.check("propusk sms status", text.returncode == 0 and "delivered" in text.stdout,
                   text.stderr)


def concat_info(udh):
    """(reference, total, sequence) of a concatenation header, or (None, None, None)."""
    i = 1
    while i + 1 < len(udh):
        iei, length = udh[i], udh[i + 1]
        data = udh[i + 2:i + 2 + length]
        if iei == 0x00 and length == 3:
            return data[0], data[1], data[2]
        if iei == 0x08 and length == 4:
            return (data[0] << 8) | data[1], data[2], data[3]
        i += 2 + length
    return None, None, None


def unquote(field):
    """fakesmsc's url-encoding (Kannel's octstr_url_encode writes a space byte as `+`)."""
    return urllib.parse.unquote_to_bytes(field.replace("+", "%20"))


def decode(data):
    """A message part's bytes: UCS-2 if they read as it, else UTF-8."""
    if len(data) % 2 == 0:
        try:
            text = data.decode("utf-16-be")
            if all(c.isprintable() or c in "\n\r" for c in text):
                return text
        except UnicodeDecodeError:
            pass
    return data.decode("utf-8", "replace")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--propusk", default=os.path.join(ROOT, "target", "debug", "propusk"))
    parser.add_argument("--database-url", help="run propusk on this PostgreSQL database")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    for tool in ("bearerbox", "smsbox"):
        if not shutil.which(tool):
            sys.exit(f"sms-e2e: {tool} not found: apt-get install kannel kannel-extras")
    if not os.access(FAKESMSC, os.X_OK):
        sys.exit(f"sms-e2e: {FAKESMSC} not found: apt-get install kannel-extras")

    run = Run(args)
    busy = [p for p in (run.propusk_port, run.admin[0], run.box_port, run.sendsms_port,
                        run.fake_port) if Run.listening(p)]
    if busy:
        sys.exit(f"sms-e2e: ports {busy} on 127.0.0.1 are in use")

    def deadline(*_):
        raise TimeoutError(f"the run took longer than {DEADLINE}s")

    signal.signal(signal.SIGALRM, deadline)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    signal.alarm(DEADLINE)
    print(f"sms-e2e: work directory {run.work}", flush=True)
    try:
        run.scenario()
    except Exception as e:  # noqa: BLE001 - any error is a failed run, reported below
        run.check("the scenario ran to the end", False, f"{type(e).__name__}: {e}")
    finally:
        signal.alarm(0)
        run.stop_all()
    if run.failed:
        for name in sorted(os.listdir(run.work)):
            path = os.path.join(run.work, name)
            if os.path.isfile(path) and name.endswith(".log"):
                with open(path, "rb") as f:
                    tail = f.read()[-3000:].decode("utf-8", "replace")
                print(f"--- {name} (last lines)\n{tail}")
    if not args.keep and not run.failed:
        shutil.rmtree(run.work, ignore_errors=True)
    print(f"sms-e2e: {run.passed} passed, {run.failed} failed")
    sys.exit(1 if run.failed else 0)


if __name__ == "__main__":
    main()
