#!/usr/bin/env python3
"""An independent generator of home-quarantine phone traces for `propusk simulate monitoring
--traces FILE`.

Written without looking at the core's own generator or evaluator; the models and the
sources of their numbers are described in README.md next to this file. Standard library
only; the output is a deterministic function of (seed, patients, violator share).

    python3 tests/monitoring-traces/generate.py --patients 500 --seed 7 --out traces.jsonl

One JSON object per line, one patient-day per object (schema in README.md).
"""

import argparse
import json
import math
import random
import sys
from datetime import datetime, timedelta, timezone

DAY = 86400
# The trace's day: local midnight in Moscow (UTC+3) of 15 April 2020.
DAY_START = datetime(2020, 4, 14, 21, 0, 0, tzinfo=timezone.utc)
M_PER_DEG_LAT = 111_320.0
EARTH_R = 6_371_008.8

# --------------------------------------------------------------------------------------
# Geometry: a local east/north plane in metres around the registered home point.


def to_latlon(home, x, y):
    lat0, lon0 = home
    lat = lat0 + y / M_PER_DEG_LAT
    lon = lon0 + x / (M_PER_DEG_LAT * math.cos(math.radians(lat0)))
    return lat, lon


def haversine(a, b):
    (la1, lo1), (la2, lo2) = a, b
    p1, p2 = math.radians(la1), math.radians(la2)
    dp, dl = p2 - p1, math.radians(lo2 - lo1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_R * math.asin(min(1.0, math.sqrt(h)))


def polar(r, bearing):
    return r * math.sin(bearing), r * math.cos(bearing)


def lognormal_median(rng, median, sigma):
    return median * math.exp(rng.gauss(0.0, sigma))


def log_uniform(rng, lo, hi):
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def weighted(rng, table):
    """table: list of (weight, value)."""
    total = sum(w for w, _ in table)
    x = rng.uniform(0, total)
    for w, v in table:
        x -= w
        if x <= 0:
            return v
    return table[-1][1]


def poisson(rng, lam):
    # Knuth; lam is small here.
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


# --------------------------------------------------------------------------------------
# Device classes and buildings (numbers: README.md, "Models").

DEVICE_CLASSES = {
    #            share  gnss_err  mp_rate  kills/day  dies/day  interval_s  stale   none->stale
    "flagship": dict(share=0.25, gnss=0.7, mp=0.7, kills=0.2, dies=0.04, interval=60, dup=0.005, restamp=0.2),
    "midrange": dict(share=0.45, gnss=1.0, mp=1.0, kills=0.7, dies=0.06, interval=90, dup=0.015, restamp=0.4),
    "budget": dict(share=0.24, gnss=1.4, mp=1.5, kills=2.0, dies=0.10, interval=120, dup=0.03, restamp=0.6),
    "loaner": dict(share=0.06, gnss=1.3, mp=1.3, kills=0.1, dies=0.08, interval=120, dup=0.02, restamp=0.5),
}

BUILDINGS = {
    # share, indoor GNSS bias sigma (m), multipath episodes/day, source mix with Wi-Fi on
    # (gnss, wifi, cell, nothing), source mix with Wi-Fi off, urban-canyon sigma outdoors
    "panel_highrise": dict(share=0.55, bias=25.0, mp=6.0, mix=(0.30, 0.58, 0.07, 0.05), mix_nowifi=(0.55, 0.0, 0.30, 0.15), canyon=9.0),
    "brick_lowrise": dict(share=0.25, bias=15.0, mp=3.0, mix=(0.45, 0.47, 0.05, 0.03), mix_nowifi=(0.70, 0.0, 0.24, 0.06), canyon=7.0),
    "private_house": dict(share=0.10, bias=8.0, mp=1.0, mix=(0.70, 0.20, 0.08, 0.02), mix_nowifi=(0.82, 0.0, 0.16, 0.02), canyon=4.0),
    "old_centre": dict(share=0.10, bias=32.0, mp=9.0, mix=(0.25, 0.63, 0.07, 0.05), mix_nowifi=(0.50, 0.0, 0.32, 0.18), canyon=22.0),
}


class Building:
    """The radio environment of one building: Wi-Fi anchors, serving cells, GNSS quality."""

    def __init__(self, rng, centre, kind=None):
        self.kind = kind or weighted(rng, [(b["share"], k) for k, b in BUILDINGS.items()])
        spec = BUILDINGS[self.kind]
        self.centre = centre
        self.bias_sigma = spec["bias"] * rng.uniform(0.7, 1.3)
        self.mp_rate = spec["mp"] * rng.uniform(0.5, 1.5)
        self.mix = spec["mix"]
        self.mix_nowifi = spec["mix_nowifi"]
        self.canyon = spec["canyon"]
        # Wi-Fi: the position a fix snaps to is the database position of the access points
        # heard best (own router or a neighbour's), each with the accuracy the location
        # service attaches to it.
        self.anchors = []
        for _ in range(rng.randint(2, 6)):
            r = min(lognormal_median(rng, 20.0, 0.7), 150.0)
            x, y = polar(r, rng.uniform(0, 2 * math.pi))
            # The service's accuracy for this access point follows the 68 % convention:
            # about a third of its fixes are farther off than it says.
            acc = max(12.0, r * math.exp(rng.gauss(0.25, 0.5)))
            self.anchors.append(dict(x=centre[0] + x, y=centre[1] + y, w=rng.random() + 0.1,
                                     acc=acc, moved=False))
        # Now and then an access point whose database position is somewhere else entirely
        # (a router moved from another flat or town): a consistent fix km away with an
        # honest-looking accuracy.
        if rng.random() < 0.03:
            x, y = polar(log_uniform(rng, 2000.0, 30000.0), rng.uniform(0, 2 * math.pi))
            self.anchors.append(dict(x=centre[0] + x, y=centre[1] + y, w=0.04,
                                     acc=rng.uniform(20.0, 50.0), moved=True))
        # Serving cells: a cell fix is the sector's estimated position, the same few
        # points for a phone that does not move.
        self.cells = []
        for _ in range(rng.randint(1, 3)):
            err = lognormal_median(rng, 600.0, 0.7)
            x, y = polar(min(err, 5000.0), rng.uniform(0, 2 * math.pi))
            self.cells.append(dict(x=centre[0] + x, y=centre[1] + y, err=err, w=rng.random() + 0.2))


# --------------------------------------------------------------------------------------
# Intervals.


def in_any(t, intervals):
    for a, b, *_ in intervals:
        if a <= t < b:
            return True
    return False


def covered(a, b, intervals):
    """Seconds of [a, b) covered by the union of intervals."""
    parts = sorted((max(a, x), min(b, y)) for x, y, *_ in intervals if y > a and x < b)
    total, end = 0.0, a
    for x, y in parts:
        x = max(x, end)
        if y > x:
            total += y - x
            end = y
    return total


# --------------------------------------------------------------------------------------
# Trips: legs of (t0, t1, p0, p1, env, building).

WALK = "walk"
CAR = "car"
UNDERGROUND = "underground"
DEST_IN = "dest_in"
DEST_OUT = "dest_out"


def route(rng, p0, p1):
    """A dog-leg route: streets are not straight lines."""
    mx, my = (p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2
    d = math.hypot(p1[0] - p0[0], p1[1] - p0[1])
    side = rng.uniform(-0.25, 0.25) * d
    nx, ny = (-(p1[1] - p0[1]) / d, (p1[0] - p0[0]) / d) if d > 0 else (0, 0)
    return [p0, (mx + nx * side, my + ny * side), p1]


def legs_along(points, t, speed, env):
    legs = []
    for a, b in zip(points, points[1:]):
        dur = math.hypot(b[0] - a[0], b[1] - a[1]) / speed
        legs.append((t, t + dur, a, b, env, None))
        t += dur
    return legs, t


def travel(rng, start, a, b, mode):
    """Legs from a to b by mode, starting at start; returns (legs, arrival)."""
    walk_speed = rng.uniform(1.0, 1.5)  # 3.6-5.4 km/h
    if mode == WALK:
        return legs_along(route(rng, a, b), start, walk_speed, WALK)
    if mode == CAR:
        # To the car or waiting for the taxi, then the city average with stops (20-40 km/h),
        # then parking.
        legs, t = wait([], start, rng.uniform(60, 300), a, WALK)
        more, t = legs_along(route(rng, a, b), t, rng.uniform(5.5, 11.0), CAR)
        return wait(legs + more, t, rng.uniform(30, 120), b, WALK)
    # Metro: walk to a station, ride underground (35-45 km/h average with changes), walk out.
    d = math.hypot(b[0] - a[0], b[1] - a[1])
    ux, uy = (b[0] - a[0]) / d, (b[1] - a[1]) / d
    s1 = rng.uniform(300, min(1000, d * 0.3))
    s2 = rng.uniform(200, min(700, d * 0.2))
    st1 = (a[0] + ux * s1, a[1] + uy * s1)
    st2 = (b[0] - ux * s2, b[1] - uy * s2)
    legs, t = legs_along(route(rng, a, st1), start, walk_speed, WALK)
    legs, t = wait(legs, t, rng.uniform(120, 420), st1, UNDERGROUND)  # descend, wait
    more, t = legs_along([st1, st2], t, rng.uniform(9.5, 12.5), UNDERGROUND)
    legs, t = wait(legs + more, t, rng.uniform(60, 240), st2, UNDERGROUND)  # climb out
    more2, t = legs_along(route(rng, st2, b), t, walk_speed, WALK)
    return legs + more2, t


def wait(legs, t, dur, p, env):
    return legs + [(t, t + dur, p, p, env, None)], t + dur


def make_trip(rng, home, start, dist, dwell, indoors, mode=None):
    bearing = rng.uniform(0, 2 * math.pi)
    dx, dy = polar(dist, bearing)
    dest = (home[0] + dx, home[1] + dy)
    if mode is None:
        if dist < 1200:
            mode = weighted(rng, [(0.9, WALK), (0.1, CAR)])
        elif dist < 3000:
            mode = weighted(rng, [(0.4, WALK), (0.4, CAR), (0.2, "metro")])
        else:
            mode = weighted(rng, [(0.6, CAR), (0.4, "metro")])
    stair = rng.uniform(30, 150)  # stairs / lift / courtyard
    legs = [(start, start + stair, home, home, WALK, None)]
    out, t = travel(rng, start + stair, home, dest, mode)
    legs += out
    building = Building(rng, dest) if indoors else None
    legs.append((t, t + dwell, dest, dest, DEST_IN if indoors else DEST_OUT, building))
    back, t = travel(rng, t + dwell, dest, home, mode)
    legs += back
    legs.append((t, t + rng.uniform(30, 150), home, home, WALK, None))
    t = legs[-1][1]
    return dict(start=start, end=t, legs=legs, mode=mode, dest=dest, planned_m=dist,
                dwell=dwell, indoors=indoors)


def position(trips, t, home):
    for trip in trips:
        if trip["start"] <= t < trip["end"]:
            for leg in trip["legs"]:
                t0, t1, p0, p1, env, building = leg
                if t0 <= t < t1:
                    f = 0.0 if t1 <= t0 else (t - t0) / (t1 - t0)
                    return (p0[0] + (p1[0] - p0[0]) * f, p0[1] + (p1[1] - p0[1]) * f), env, building, trip
            # Between legs (rounding): where the last leg ended.
            prev = [leg for leg in trip["legs"] if leg[0] <= t]
            leg = prev[-1] if prev else trip["legs"][0]
            return leg[3], leg[4], leg[5], trip
    return home, "home", None, None


# --------------------------------------------------------------------------------------
# One patient-day.


def iso(t):
    return (DAY_START + timedelta(seconds=t)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def patient(seed, index, violator_share):
    rng = random.Random(f"propusk-independent-traces/{seed}/{index}")
    registered = (rng.uniform(55.57, 55.90), rng.uniform(37.37, 37.83))
    # Geocoding: the case's point is the building's address point; the flat is somewhere
    # in a building up to ~150 m long.
    geo_off = min(abs(rng.gauss(0, 18.0)), 70.0)
    true_home = polar(geo_off, rng.uniform(0, 2 * math.pi))
    radius = weighted(rng, [(0.15, 50), (0.55, 100), (0.15, 150), (0.15, 200)])
    device = weighted(rng, [(c["share"], k) for k, c in DEVICE_CLASSES.items()])
    dev = DEVICE_CLASSES[device]
    home_b = Building(rng, true_home)
    bedridden = rng.random() < 0.10
    wifi_on = rng.random() < 0.93
    night_mode = weighted(rng, [(0.55, "foreground"), (0.30, "idle_alarms"), (0.15, "deep_doze")])
    charges_at_night = rng.random() < 0.6
    power_saver = rng.random() < 0.2
    interval = dev["interval"] * (2.5 if power_saver else 1.0)
    flush = weighted(rng, [(0.5, 60), (0.3, 120), (0.2, 300)])
    wake = rng.uniform(6.5, 9.5) * 3600
    sleep_tonight = rng.uniform(22.0, 24.5) * 3600
    violator = rng.random() < violator_share

    # ---- Trips ----------------------------------------------------------------------
    trips, excursions = [], []

    def free(a, b, gap=1800):
        return all(b + gap <= tr["start"] or a >= tr["end"] + gap for tr in trips)

    def place(make, lo, hi, tries=30):
        for _ in range(tries):
            tr = make(rng.uniform(lo, hi))
            if tr["end"] < DAY - 600 and free(tr["start"], tr["end"]):
                trips.append(tr)
                return tr
        return None

    if violator:
        kind = weighted(rng, [(0.12, "work"), (0.88, "errands")])
        if kind == "work":
            place(lambda s: make_trip(rng, true_home, s, log_uniform(rng, 2000, 15000),
                                      rng.uniform(6, 10) * 3600, True), 6.5 * 3600, 9.5 * 3600)
        n = weighted(rng, [(0.6, 1), (0.3, 2), (0.1, 3)]) if kind == "errands" else weighted(rng, [(0.7, 0), (0.3, 1)])
        for _ in range(n):
            dist = log_uniform(rng, 330, 15000)
            dwell = min(lognormal_median(rng, 50 * 60, 0.6), 4 * 3600)
            dwell = max(dwell, rng.uniform(21, 30) * 60)
            place(lambda s: make_trip(rng, true_home, s, dist, dwell, rng.random() < 0.7), 7 * 3600, 22 * 3600)
        # Near misses, not real departures: close by, or far but brief.
        if rng.random() < 0.3:
            if rng.random() < 0.5:
                place(lambda s: make_trip(rng, true_home, s, rng.uniform(120, 260), rng.uniform(10, 40) * 60,
                                          rng.random() < 0.6, WALK), 8 * 3600, 21 * 3600)
            else:
                place(lambda s: make_trip(rng, true_home, s, rng.uniform(330, 700), rng.uniform(1, 5) * 60,
                                          rng.random() < 0.6, WALK), 8 * 3600, 21 * 3600)
    elif not bedridden and rng.random() < 0.08:
        # Taking the rubbish out to the bins in the yard.
        place(lambda s: make_trip(rng, true_home, s, rng.uniform(20, 80), rng.uniform(1, 4) * 60, False, WALK),
              8 * 3600, 21 * 3600)
    trips.sort(key=lambda tr: tr["start"])

    # ---- Phone down times -------------------------------------------------------------
    # (start, end, reason). "Capable" = alive, app running, location on, carried.
    down = []
    for _ in range(poisson(rng, dev["kills"] * (0.5 if bedridden else 1.0))):
        t = rng.uniform(0, DAY)
        dur = min(lognormal_median(rng, 45 * 60, 1.0), 10 * 3600)
        if t < wake or t > sleep_tonight:
            dur = max(dur, (wake if t < wake else wake + DAY) - t + rng.uniform(0, 1800))
        down.append((t, t + dur, "app_killed"))
    phone_died = False
    if rng.random() < dev["dies"] * (2.0 if bedridden else 1.0):
        t = rng.uniform(10 * 3600, 23.5 * 3600)
        dur = lognormal_median(rng, 3 * 3600, 0.7)
        if t + dur > sleep_tonight:
            dur = max(dur, wake + DAY - t)
        dur = min(dur, 14 * 3600)
        down.append((t, t + dur, "battery_dead"))
        phone_died = dur >= 3600 and t < DAY
    for tr in trips:
        u = rng.random()
        if u < 0.04:
            down.append((tr["start"], tr["end"], "phone_left_home"))
            tr["phone"] = "left_home"
        elif u < 0.07:
            a = tr["start"] + rng.uniform(0, 300)
            down.append((a, tr["end"] - rng.uniform(0, 300), "location_off"))
            tr["phone"] = "location_off"
        else:
            tr["phone"] = "carried"
    left_home_trips = [(tr["start"], tr["end"]) for tr in trips if tr["phone"] == "left_home"]

    # ---- Network: offline stretches and late uploads -------------------------------------
    offline = []
    if rng.random() < 0.25:
        a = rng.uniform(0, DAY)
        offline.append((a, a + min(lognormal_median(rng, 90 * 60, 1.0), 20 * 3600)))
    late_uploader = rng.random() < 0.04
    if late_uploader:
        a = rng.uniform(0, DAY * 0.8)
        offline.append((a, rng.uniform(DAY + 3600, a + 46 * 3600)))
    # Retried uploads (a lost acknowledgement): the same batch again at the next flush.

    # ---- Fixes ------------------------------------------------------------------------
    def doze(t):
        """Night, still, unplugged, screen off: the phone dozes."""
        asleep = t < wake or t >= sleep_tonight
        if not asleep or charges_at_night or bedridden:
            return None
        pos, env, _, _ = position(trips, t, true_home)
        if env != "home":
            return None
        return night_mode

    reports = []
    bias = {"x": 0.0, "y": 0.0, "env": None, "at": 0.0}
    last = None
    source = None
    anchor = None
    cell = None
    mp_episodes = []
    for _ in range(poisson(rng, home_b.mp_rate * dev["mp"])):
        a = rng.uniform(0, DAY)
        dur = min(lognormal_median(rng, 60, 1.0), 600) if rng.random() > 0.05 else rng.uniform(180, 600)
        mag = log_uniform(rng, 40, 450)
        mp_episodes.append((a, a + dur, mag, rng.uniform(0, 2 * math.pi)))
    deep_next = None

    t = rng.uniform(0, 60)
    while t < DAY:
        # Down: skip to its end; the app comes back with a fix within a minute or two.
        hit = [d for d in down if d[0] <= t < d[1] and d[2] != "phone_left_home"]
        if hit:
            t = max(d[1] for d in hit) + rng.uniform(20, 120)
            continue
        pos, env, building, trip = position(trips, t, true_home)
        if trip is not None and trip.get("phone") == "left_home":
            pos, env, building = true_home, "home", None
        if env == "home" or building is None:
            # At home, or outdoors in the patient's own neighbourhood (its urban canyon).
            building = home_b
        # Next fix time.
        mode = doze(t)
        if mode == "idle_alarms":
            step = rng.uniform(9, 15) * 60
        elif mode == "deep_doze":
            if deep_next is None or deep_next <= t:
                deep_next = t + weighted(rng, [(0.4, 3600), (0.3, 7200), (0.3, 4 * 3600)])
            step = deep_next - t + rng.uniform(0, 300)
        if mode in ("idle_alarms", "deep_doze"):
            # Doze ends when the phone is picked up: at the alarm in the morning, or when
            # the patient sets off at night. A step scheduled while dozing must not run past
            # that, or a departure straight after waking would go unseen by a phone that was
            # in fact awake and carried.
            woken = min([wake] + [tr["start"] for tr in trips if tr["start"] > t])
            if woken > t:
                step = min(step, woken - t + 60.0)
        elif mode == "foreground":
            step = interval * rng.uniform(2.0, 4.0)
        else:
            step = interval * math.exp(rng.gauss(0, 0.25))
        state = dict(source=source, anchor=anchor, cell=cell)
        fix = observe(rng, t, pos, env, building, dev, wifi_on, bias, mp_episodes, state)
        source, anchor, cell = state["source"], state["anchor"], state["cell"]
        if fix is None:
            if last is not None and rng.random() < dev["restamp"]:
                # The app re-sends the last known location stamped with the current time.
                reports.append(dict(last, ts=t, src="stale", tx=pos[0], ty=pos[1]))
        else:
            x, y, acc, src = fix
            rep = dict(ts=t, x=x, y=y, acc=acc, src=src, tx=pos[0], ty=pos[1])
            reports.append(rep)
            last = rep
            if rng.random() < dev["dup"]:
                # The same location object delivered twice (same time): a duplicate.
                reports.append(dict(rep, src="dup"))
        t += max(step, 5.0)

    # ---- Uploads ------------------------------------------------------------------------
    flush_phase = rng.uniform(0, flush)
    out = []
    for r in reports:
        t = r["ts"]
        # Not while the phone is dead / the app is killed, nor while offline.
        while True:
            moved = False
            for a, b, *why in down + [(a, b, "offline") for a, b in offline]:
                if why and why[0] == "phone_left_home":
                    continue
                if a <= t < b:
                    t = b + rng.uniform(5, 90)
                    moved = True
            if not moved:
                break
        if doze(t) in ("idle_alarms", "deep_doze"):
            pass  # the fix was taken in a maintenance window: it goes with it
        else:
            t = flush_phase + math.ceil((t - flush_phase) / flush) * flush
        up = t + rng.uniform(0.5, 15.0)
        up = min(up, r["ts"] + 47 * 3600)
        out.append(dict(r, up=up))
        if rng.random() < 0.01:
            out.append(dict(r, up=min(up + flush + rng.uniform(0, 30), r["ts"] + 47 * 3600), src=r["src"] + "+retry"))

    # ---- Ground truth ---------------------------------------------------------------------
    reg = to_latlon(registered, 0, 0)
    departures, near = [], []
    for tr in trips:
        far, stretch, longest, best, max_d = [], None, 0, None, 0.0
        step = 10
        for k in range(int(tr["start"]), int(tr["end"]) + 1, step):
            p, _, _, _ = position([tr], k, true_home)
            d = haversine(reg, to_latlon(registered, *p))
            max_d = max(max_d, d)
            if d >= 300:
                stretch = (stretch[0], k + step) if stretch else (k, k + step)
            elif stretch:
                far.append(stretch)
                stretch = None
        if stretch:
            far.append(stretch)
        for a, b in far:
            if b - a > longest:
                longest, best = b - a, (a, b)
        entry = dict(start=iso(tr["start"]), end=iso(tr["end"]), distance_m=round(max_d, 1),
                     mode=tr["mode"], dwell_min=round(tr["dwell"] / 60, 1), indoors=tr["indoors"],
                     phone=tr["phone"], far_min=round(longest / 60, 1))
        if longest >= 20 * 60:
            a, b = best
            capable = (b - a) - covered(a, b, down) - underground_secs(tr, a, b)
            entry["capable_min"] = round(capable / 60, 1)
            entry["observable"] = capable >= 20 * 60
            departures.append(entry)
        else:
            near.append(entry)
    if violator and not departures:
        # Every violator leaves for real at least once: try again with another stream.
        return patient(f"{seed}+", index, 1.0)

    def ll(x, y):
        lat, lon = to_latlon(registered, x, y)
        return round(lat, 7), round(lon, 7)

    out.sort(key=lambda r: (r["up"], r["ts"]))
    rep_json = []
    for r in out:
        lat, lon = ll(r["x"], r["y"])
        err = math.hypot(r["x"] - r["tx"], r["y"] - r["ty"])
        true_d = math.hypot(r["tx"], r["ty"])
        rep_json.append(dict(ts=iso(r["ts"]), lat=lat, lon=lon, accuracy_m=round(r["acc"], 1),
                             upload_at=iso(r["up"]), src=r["src"], err_m=round(err), true_home_m=round(true_d)))
    return dict(
        patient=index,
        day_start=iso(0),
        home=dict(zip(("lat", "lon"), ll(0, 0))),
        radius_m=radius,
        violator=bool(departures),
        phone_died=phone_died,
        departures=[dict(d) for d in departures],
        excursions=near,
        profile=dict(device=device, building=home_b.kind, bedridden=bedridden, wifi_on=wifi_on,
                     night=night_mode, charges_at_night=charges_at_night, power_saver=power_saver,
                     flush_s=flush, geocode_offset_m=round(geo_off, 1),
                     moved_ap=any(a["moved"] for a in home_b.anchors),
                     multipath_episodes=len(mp_episodes), late_uploader=late_uploader),
        down=[dict(start=iso(a), end=iso(b), reason=why) for a, b, why in sorted(down)],
        offline=[dict(start=iso(a), end=iso(b)) for a, b in offline],
        reports=rep_json,
    )


def underground_secs(trip, a, b):
    return covered(a, b, [(l[0], l[1]) for l in trip["legs"] if l[4] == UNDERGROUND])


def ar1(rng, bias, env, t, sigma, tau):
    """A time-correlated error: AR(1) with stationary sigma and time constant tau."""
    if bias["env"] != env:
        bias.update(env=env, x=rng.gauss(0, sigma / math.sqrt(2)), y=rng.gauss(0, sigma / math.sqrt(2)), at=t)
    else:
        dt = max(t - bias["at"], 0.0)
        rho = math.exp(-dt / tau)
        s = sigma / math.sqrt(2) * math.sqrt(1 - rho * rho)
        bias.update(x=bias["x"] * rho + rng.gauss(0, s), y=bias["y"] * rho + rng.gauss(0, s), at=t)
    return bias["x"], bias["y"]


def observe(rng, t, pos, env, building, dev, wifi_on, bias, mp_episodes, state):
    """One fix: (x, y, reported accuracy, source) or None when nothing could be had."""
    x0, y0 = pos
    g = dev["gnss"]
    if env in ("home", DEST_IN):
        b = building
        if env == "home":
            for a, e, mag, brg in mp_episodes:
                if a <= t < e and rng.random() < 0.7:
                    # Multipath: the receiver locks onto a reflection; the solution sits
                    # tens to hundreds of metres off in one direction, with a small,
                    # confident accuracy.
                    dx, dy = polar(mag * rng.uniform(0.9, 1.1), brg + rng.gauss(0, 0.08))
                    return x0 + dx, y0 + dy, rng.uniform(6.0, 30.0), "multipath"
        mix = b.mix if wifi_on else b.mix_nowifi
        if state["source"] is None or rng.random() > 0.75:
            state["source"] = weighted(rng, list(zip(mix, ("gnss", "wifi", "cell", "none"))))
        src = state["source"]
        if src == "gnss":
            sigma = b.bias_sigma * g
            bx, by = ar1(rng, bias, ("in", id(b)), t, sigma, 600.0)
            wx, wy = rng.gauss(0, 0.25 * sigma), rng.gauss(0, 0.25 * sigma)
            # Indoors the receiver's own estimate is too optimistic: 40-90 % of the spread.
            acc = max(4.0, sigma * rng.uniform(0.4, 0.9))
            return x0 + bx + wx, y0 + by + wy, acc, "gps_indoor"
        if src == "wifi":
            if state["anchor"] is None or state["anchor"] not in b.anchors or rng.random() > 0.7:
                state["anchor"] = weighted(rng, [(a["w"], a) for a in b.anchors])
            a = state["anchor"]
            return (a["x"] + rng.gauss(0, 4), a["y"] + rng.gauss(0, 4), a["acc"] * rng.uniform(0.9, 1.1),
                    "wifi_moved_ap" if a["moved"] else "wifi")
        if src == "cell":
            return cell_fix(rng, b, state)
        return None
    if env == UNDERGROUND:
        if rng.random() < 0.3:
            err = lognormal_median(rng, 800.0, 0.6)
            dx, dy = polar(err, rng.uniform(0, 2 * math.pi))
            return x0 + dx, y0 + dy, err * math.exp(rng.gauss(0.25, 0.5)), "cell"
        return None
    # Outdoors: walking, in a car, or staying outside.
    canyon = 6.0
    if building is not None:
        canyon = building.canyon
    sigma = (canyon if env != CAR else canyon * 1.3) * g
    u = rng.random()
    if u < 0.06 and wifi_on:
        err = lognormal_median(rng, 35.0, 0.6)
        dx, dy = polar(err, rng.uniform(0, 2 * math.pi))
        return x0 + dx, y0 + dy, rng.uniform(15.0, 40.0), "wifi"
    if u < 0.08:
        err = lognormal_median(rng, 600.0, 0.7)
        dx, dy = polar(err, rng.uniform(0, 2 * math.pi))
        return x0 + dx, y0 + dy, max(150.0, err * math.exp(rng.gauss(0.25, 0.5))), "cell"
    bx, by = ar1(rng, bias, "out", t, sigma, 120.0)
    wx, wy = rng.gauss(0, 0.3 * sigma), rng.gauss(0, 0.3 * sigma)
    acc = max(3.0, sigma * rng.uniform(0.7, 1.4))
    return x0 + bx + wx, y0 + by + wy, acc, "gps"


def cell_fix(rng, b, state):
    if state["cell"] is None or state["cell"] not in b.cells or rng.random() > 0.8:
        state["cell"] = weighted(rng, [(c["w"], c) for c in b.cells])
    c = state["cell"]
    # The accuracy follows the 68 % convention: about a third of cell fixes lie farther
    # from the truth than their accuracy says.
    acc = max(150.0, c["err"] * math.exp(rng.gauss(0.25, 0.5)))
    return c["x"] + rng.gauss(0, 30), c["y"] + rng.gauss(0, 30), acc, "cell"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--patients", type=int, default=500)
    ap.add_argument("--violators", type=float, default=10.0, help="share of violators, percent")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="-", help="output file (default: stdout)")
    args = ap.parse_args(argv)
    if args.patients <= 0 or not 0 <= args.violators <= 100:
        ap.error("--patients must be positive and --violators between 0 and 100")
    f = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    with f:
        for i in range(args.patients):
            f.write(json.dumps(patient(args.seed, i, args.violators / 100.0), separators=(",", ":")))
            f.write("\n")


if __name__ == "__main__":
    main()
