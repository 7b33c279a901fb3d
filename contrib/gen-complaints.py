#!/usr/bin/env python3
"""gen-complaints.py — text-protocol request lines for many complaints, for
contrib/import (issue 4's measurements: COMPLAINT STATS and the overdue list
on 1,000,000 complaints). Seeded: the same arguments give the same file.

  contrib/gen-complaints.py --count 1000000 > same-day.txt
  build/contrib/import --data-dir DIR same-day.txt          # into a stopped store

  contrib/gen-complaints.py --count 1000000 --days 365 --start 2025-01-01 > year.txt
  build/contrib/import -h 127.0.0.1 -p PORT -u admin -a PW -c 1 year.txt
                                    # into a daemon started with --enable-test-clock

Lines: optionally `CALENDAR SET default ...` first (Mon-Fri 09:00-12:00,
13:00-18:00, Asia/Shanghai: clocks in business time); then per complaint
`COMPLAINT OPEN ...` (channels, categories, depots, phones varied; a few
through outside bodies, which escalate at once), and for a share of them
`COMPLAINT ACK N`, and `COMPLAINT PROPOSE N`, `COMPLAINT ACCEPT N`,
`COMPLAINT CLOSE N ...` (satisfaction, responsible, stage, cause). N is the
complaint's id: the store must be fresh (ids start at 1) and the lines run in
file order (the store importer does; over the network give -c 1: every line
then goes through one connection, in order, and pipelined writes still share
group commits).

--days 1 (the default): every line runs at the importer's own clock, so every
complaint opens the same day (import takes `now` from the daemon's clock code;
CLOCK SET is not a write and the store importer refuses it).

--days D > 1: the complaints are spread over D days from --start, with
`CLOCK SET` lines between batches (opens at 09:00, 11:00 and 15:00 local;
acknowledgements the same afternoon or the next morning, some late; closes
one to five days later), for a daemon run with --enable-test-clock and an
import over the network with -c 1. The daemon sweeps due times by itself as
its clock moves (acknowledge breaches, overdue escalations), as in real life.
"""
import argparse
import datetime
import heapq
import random
import sys

CHANNELS = (("phone", 45), ("online", 30), ("walk_in", 20), ("regulator", 2), ("consumer_association", 1),
            ("market_regulator", 1), ("media", 1))
CATEGORIES = ("delay", "loss", "damage", "content_mismatch", "not_delivered_to_door", "refused_inspection",
              "wrong_signature", "no_consent_drop", "attitude", "charges", "other")
STAGES = ("pickup", "sorting", "line_haul", "subcarrier_handover", "delivery", "customer_service")
ZONE = datetime.timezone(datetime.timedelta(hours=8))


def weighted(rnd, pairs):
    total = sum(w for _, w in pairs)
    x = rnd.randrange(total)
    for v, w in pairs:
        if x < w:
            return v
        x -= w
    return pairs[-1][0]


class Gen:
    def __init__(self, a):
        self.a = a
        self.rnd = random.Random(a.seed)
        self.depots = ["D%03d" % i for i in range(a.depots)]
        self.out = sys.stdout
        self.next_id = 1

    def w(self, s):
        self.out.write(s)
        self.out.write("\n")

    def open_line(self, i):
        r = self.rnd
        ch = weighted(r, CHANNELS)
        return ("COMPLAINT OPEN channel=%s category=%s depot=%s customer_name=\"Customer %d\" "
                "customer_phone=139%08d text=\"complaint %d\"" %
                (ch, r.choice(CATEGORIES), r.choice(self.depots), i, r.randrange(10 ** 8), i))

    def close_lines(self, cid):
        r = self.rnd
        return ["COMPLAINT PROPOSE %d text=\"solution\"" % cid,
                "COMPLAINT ACCEPT %d" % cid,
                "COMPLAINT CLOSE %d satisfaction=%d feedback=\"ok\" responsible=%s stage=%s cause=\"cause\"" %
                (cid, r.randint(1, 5), r.choice(self.depots[:20] + ["cs_dept", "linehaul"]), r.choice(STAGES))]

    def calendar(self):
        days = " ".join("%s=09:00-12:00,13:00-18:00" % d for d in ("monday", "tuesday", "wednesday",
                                                                   "thursday", "friday"))
        self.w("CALENDAR SET default zone=Asia/Shanghai " + days)

    def same_day(self):
        a = self.a
        n = a.count
        for i in range(1, n + 1):
            self.w(self.open_line(i))
        for cid in range(1, n + 1):
            if self.rnd.random() * 100 < a.ack_pct:
                self.w("COMPLAINT ACK %d" % cid)
                if self.rnd.random() * 100 < a.close_pct * 100 / max(a.ack_pct, 1):
                    for ln in self.close_lines(cid):
                        self.w(ln)

    def spread(self):
        a = self.a
        start = datetime.datetime.fromisoformat(a.start).replace(tzinfo=ZONE)
        per_day = [a.count // a.days + (1 if d < a.count % a.days else 0) for d in range(a.days)]
        # pending actions: (time, seq, kind, id); kinds: ack, close
        pending = []
        seq = 0
        cid = 0
        r = self.rnd

        def at(t):
            self.w("CLOCK SET %s" % t.isoformat())

        slots = (9, 11, 15)
        for d in range(a.days):
            day = start + datetime.timedelta(days=d)
            n = per_day[d]
            for s, hour in enumerate(slots):
                t = day.replace(hour=hour, minute=r.randrange(0, 50))
                # what falls due before this slot
                while pending and pending[0][0] <= t:
                    pt, _, kind, pid = heapq.heappop(pending)
                    at(pt)
                    if kind == "ack":
                        self.w("COMPLAINT ACK %d" % pid)
                    else:
                        for ln in self.close_lines(pid):
                            self.w(ln)
                at(t)
                k = n // 3 + (1 if s < n % 3 else 0)
                for _ in range(k):
                    cid += 1
                    self.w(self.open_line(cid))
                    if r.random() * 100 < a.ack_pct:
                        # most within hours, some the next day (late)
                        delay = r.choice((1, 1, 2, 3, 5, 18, 26))
                        ack_t = t + datetime.timedelta(hours=delay, minutes=r.randrange(60))
                        heapq.heappush(pending, (ack_t, seq, "ack", cid))
                        seq += 1
                        if r.random() * 100 < a.close_pct * 100 / max(a.ack_pct, 1):
                            close_t = ack_t + datetime.timedelta(days=r.randrange(1, 6), hours=r.randrange(8))
                            heapq.heappush(pending, (close_t, seq, "close", cid))
                            seq += 1
        end = start + datetime.timedelta(days=a.days)
        while pending and pending[0][0] <= end:
            pt, _, kind, pid = heapq.heappop(pending)
            at(pt)
            if kind == "ack":
                self.w("COMPLAINT ACK %d" % pid)
            else:
                for ln in self.close_lines(pid):
                    self.w(ln)
        at(end)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--count", type=int, default=1000000)
    p.add_argument("--days", type=int, default=1, help="1: all at the importer's clock; D: spread with CLOCK SET")
    p.add_argument("--start", default="2025-01-01", help="first day (Asia/Shanghai) with --days > 1")
    p.add_argument("--seed", type=int, default=4)
    p.add_argument("--depots", type=int, default=200)
    p.add_argument("--ack-pct", type=float, default=80.0, help="share acknowledged")
    p.add_argument("--close-pct", type=float, default=60.0, help="share closed (of all)")
    p.add_argument("--no-calendar", action="store_true", help="no CALENDAR SET line: calendar-time clocks")
    a = p.parse_args()
    if a.count < 1 or a.days < 1 or a.close_pct > a.ack_pct:
        p.error("--count and --days must be positive; --close-pct at most --ack-pct")
    g = Gen(a)
    if not a.no_calendar:
        g.calendar()
    if a.days == 1:
        g.same_day()
    else:
        g.spread()


if __name__ == "__main__":
    main()
