#!/usr/bin/env python3
"""Scores the geofence evaluator on traces from the independent generator, through the real
API: generates the traces, runs `propusk simulate monitoring --traces FILE --json`, prints the
figures with an explanation of every miss and false flag, and fails unless the acceptance of
issue 6 is met on the API path:

- compliant patient-days with a `left_home` flag <= 0.1 %
- real (observable) departures flagged >= 99 %
- median time to flag <= 15 minutes

    PROPUSK_BIN=target/release/propusk python3 tests/monitoring-traces/run.py --patients 500 --seed 11
    ... --database-url postgres://postgres@127.0.0.1:5432/test

Exit status: 0 acceptance met, 1 not met, 2 the run itself failed (a crash, malformed
output, a check of the generator that did not hold). It cannot pass without figures: an
empty or partial run fails.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
FALSE_FLAG_MAX = 0.001
DETECTION_MIN = 0.99
MEDIAN_MAX_MIN = 15.0


def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def fail(msg):
    print(f"run.py: {msg}", file=sys.stderr)
    sys.exit(2)


def secs(day_start, s):
    return (ts(s) - day_start).total_seconds()


def explain_window(patient, a, b, margin=600):
    """What the phone reported from a - margin to b: counts by source, worst errors."""
    d0 = ts(patient["day_start"])
    rows = [r for r in patient["reports"] if a - margin <= secs(d0, r["ts"]) <= b]
    by_src = collections.Counter(r["src"] for r in rows)
    far = [r for r in rows if r["err_m"] >= 100]
    worst = collections.Counter(r["src"] for r in far)
    return by_src, worst, rows


def describe_false_flag(patient, f):
    by_src, worst, _ = explain_window(patient, f["from_s"], f["to_s"], margin=0)
    prof = patient["profile"]
    cause = ", ".join(f"{n} {s}" for s, n in worst.most_common()) or "no fix 100 m+ off in the flag's span"
    return (f"patient {patient['patient']} ({prof['device']}, {prof['building']}, radius {patient['radius_m']} m, "
            f"flag {f['from_s'] / 60:.0f}-{f['to_s'] / 60:.0f} min): fixes >=100 m off: {cause}; "
            f"all fixes in the span: {dict(by_src)}")


def describe_miss(patient, dep):
    d0 = ts(patient["day_start"])
    a, b = secs(d0, dep["start"]), secs(d0, dep["end"])
    by_src, _, rows = explain_window(patient, a, b, margin=0)
    outside = [r for r in rows if r["true_home_m"] >= 300]
    prof = patient["profile"]
    return (f"patient {patient['patient']} ({prof['device']}, night {prof['night']}, flush {prof['flush_s']} s): "
            f"{dep['mode']} to {dep['distance_m']:.0f} m for {dep['far_min']:.0f} min "
            f"({'indoors' if dep['indoors'] else 'outdoors'}), phone {dep['phone']}, capable {dep.get('capable_min')} min; "
            f"{len(rows)} fixes during the trip, {len(outside)} taken >= 300 m away: {dict(by_src)}; "
            f"down: {[d['reason'] for d in patient['down']]}, offline: {len(patient['offline'])}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--patients", type=int, default=500)
    ap.add_argument("--violators", type=float, default=10.0, help="percent")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--database-url", help="passed on to the simulator (default: a scratch SQLite database)")
    ap.add_argument("--traces", help="use this trace file instead of generating one")
    ap.add_argument("--result", help="with --traces: re-read this saved simulator JSON instead of running it")
    ap.add_argument("--keep", help="keep the trace file and the simulator's JSON under this prefix")
    ap.add_argument("--bin", default=os.environ.get("PROPUSK_BIN", "target/release/propusk"),
                    help="the propusk binary (default: $PROPUSK_BIN or target/release/propusk)")
    args = ap.parse_args()
    if args.patients < 500 and not args.traces:
        print(f"note: {args.patients} patients; the acceptance is stated on at least 500", file=sys.stderr)

    tmp = tempfile.mkdtemp(prefix="monitoring-traces-")
    traces = args.traces or (f"{args.keep}.jsonl" if args.keep else os.path.join(tmp, "traces.jsonl"))
    if not args.traces:
        subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), "--patients", str(args.patients),
                        "--violators", str(args.violators), "--seed", str(args.seed), "--out", traces], check=True)
    patients = {}
    with open(traces, encoding="utf-8") as f:
        for line in f:
            p = json.loads(line)
            patients[p["patient"]] = p
    if not patients:
        fail("the trace file is empty")

    cmd = [args.bin, "simulate", "monitoring", "--traces", traces, "--json"]
    if args.database_url:
        cmd += ["--database-url", args.database_url]
    if args.result:
        with open(args.result, encoding="utf-8") as f:
            done = subprocess.CompletedProcess(cmd, 0, f.read(), "")
    else:
        print("$ " + " ".join(cmd), flush=True)
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        fail(f"the simulator exited with {done.returncode}")
    try:
        out = json.loads(done.stdout)
    except ValueError as e:
        sys.stderr.write(done.stdout[-2000:])
        fail(f"the simulator's output is not JSON: {e}")
    if args.keep:
        with open(f"{args.keep}.result.json", "w", encoding="utf-8") as f:
            f.write(done.stdout)

    api, core = out["api"], out["core"]
    # The run must have scored what the file holds.
    n_dep = sum(len(p["departures"]) for p in patients.values())
    n_obs = sum(d["observable"] for p in patients.values() for d in p["departures"])
    if api["patient_days"] != len(patients) or api["departures"] != n_dep or api["departures_observable"] != n_obs:
        fail(f"scored {api['patient_days']} patient-days / {api['departures']} departures "
             f"({api['departures_observable']} observable), the file has {len(patients)} / {n_dep} ({n_obs})")
    if api["compliant_days"] == 0 or api["departures_observable"] == 0:
        fail("nothing to score: no compliant patients or no observable departures")
    if out["uploads"]["accepted"] == 0:
        fail("the server accepted no reports")

    print(f"traces: {traces} ({len(patients)} patient-days, seed {args.seed}, {args.violators:g} % violators)")
    print(f"server: {out['backend']} ({out['database']}), {out['build']} build, "
          f"{out['simulated_hours']:.1f} simulated hours, wall {out['wall_secs']:.0f} s")
    u = out["uploads"]
    print(f"uploads: {u['requests']} POSTs, {u['accepted']} reports accepted, {u['duplicates']} duplicates, "
          f"{u['ignored']} ignored, {u['too_old']} refused as older than 48 h")
    for name, r in (("API", api), ("core replay", core)):
        med = r["median_time_to_flag_min"]
        p90 = r["p90_time_to_flag_min"]
        print(f"{name}: compliant days flagged left_home {r['compliant_days_flagged']} of {r['compliant_days']} "
              f"({100 * r['false_flag_rate']:.3f} %); departures flagged {r['departures_flagged']} of "
              f"{r['departures_observable']} observable ({100 * r['detection_rate']:.2f} %), "
              f"{r['unobservable_flagged']} of {r['departures'] - r['departures_observable']} unobservable; "
              f"time to flag median {med if med is None else round(med, 1)} min, p90 {p90 if p90 is None else round(p90, 1)} min; "
              f"violators' flags outside departures {r['violator_false_flags']}; "
              f"no_signal days {r['no_signal_days']} (dead phones {r['dead_phone_days_with_no_signal']} of {r['dead_phone_days']})")
    print(f"API and core replay agree: {out['agree']}")

    # Every miss and false flag, with what the phone sent.
    causes = collections.Counter()
    for res in out["patients"]:
        p = patients[res["index"]]
        left = [f for f in res["flags"] if f["kind"] == "left_home"]
        for dep, o in zip(p["departures"], res["api"]["departures"]):
            if dep["observable"] and o["time_to_flag_s"] is None:
                print("MISSED  " + describe_miss(p, dep))
        d0 = ts(p["day_start"])
        spans = [(secs(d0, d["start"]), secs(d0, d["end"])) for d in p["departures"]]
        for f in left:
            if any(f["from_s"] <= b and a <= f["to_s"] for a, b in spans):
                continue
            kind = "FALSE   " if not p["violator"] else "VIOLATOR-EXTRA "
            near = [e for e in p["excursions"]
                    if secs(d0, e["start"]) <= f["to_s"] and f["from_s"] <= secs(d0, e["end"])]
            if near:
                print(kind + f"patient {p['patient']}: during a short trip that is not a real departure: "
                      f"{near[0]['distance_m']:.0f} m, {near[0]['far_min']} min at >= 300 m")
                causes["short trip"] += 1
                continue
            print(kind + describe_false_flag(p, f))
            _, worst, _ = explain_window(p, f["from_s"], f["to_s"], margin=0)
            causes[worst.most_common(1)[0][0] if worst else "other"] += 1
    if causes:
        print("false left_home flags by the source of most of their far fixes: " + dict(causes).__repr__())

    ok_false = api["false_flag_rate"] <= FALSE_FLAG_MAX
    ok_det = api["detection_rate"] >= DETECTION_MIN
    med = api["median_time_to_flag_min"]
    ok_med = med is not None and med <= MEDIAN_MAX_MIN
    print(f"acceptance (API path): false flags <= 0.1 %: {'ok' if ok_false else 'FAIL'}; "
          f"detection >= 99 %: {'ok' if ok_det else 'FAIL'}; median <= 15 min: {'ok' if ok_med else 'FAIL'}")
    sys.exit(0 if ok_false and ok_det and ok_med else 1)


if __name__ == "__main__":
    main()
