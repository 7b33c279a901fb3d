#!/usr/bin/env python3
"""gen-care.py — text-protocol request lines for many account customers and
a year of contacts with them, for contrib/import (issue 14's measurements:
the agenda and REPORT MONTH with 10,000 accounts and a year of contacts).
Seeded: the same arguments give the same file.

  contrib/gen-care.py --accounts 10000 --owners 50 > care.txt
  build/contrib/import --data-dir DIR care.txt          # into a stopped store

Lines: `USER ADD` of the owners (o01.., operators, password "care-pw-NN"),
then per account `CUSTOMER ADD` (one of --depots home depots, an owner as
account manager) and `CUSTOMER TIER` (2 % key, 8 % local major, 30 % medium
monthly, the rest regular monthly), then the year's contacts in time order,
each `CONTACT ADD ... done_at=... summary=... owner=...` as the tier's plan
calls for them (key: a visit a month and a meeting a quarter; local major: a
call a month and a visit a quarter; medium: a call a month; regular: two
calls a year), with a few days' jitter. Each contact made plans the next
one by the tier's plan (docs/customers.md), so the store ends with every
planned account's next contacts due, some already overdue: what the agenda
walks. Times end --end-days-ago days before the generator's clock, so the
importer (whose clock is the wall clock) takes them all as past.
"""
import argparse
import random
import time

DAY = 86400
TIERS = (("key", 0.02, (("visit", 30), ("meeting", 91))),
         ("local_major", 0.08, (("call", 30), ("visit", 91))),
         ("medium_monthly", 0.30, (("call", 30),)),
         ("regular_monthly", 0.60, (("call", 182),)))


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(ts + 8 * 3600))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", type=int, default=10000)
    ap.add_argument("--owners", type=int, default=50)
    ap.add_argument("--depots", type=int, default=40)
    ap.add_argument("--days", type=int, default=365, help="how far back the contacts go")
    ap.add_argument("--end-days-ago", type=int, default=3)
    ap.add_argument("--seed", type=int, default=14)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    end = int(time.time()) - a.end_days_ago * DAY
    start = end - a.days * DAY
    out = []
    for o in range(1, a.owners + 1):
        out.append("USER ADD o%02d operator care-pw-%02d full_name=\"Owner %d\" depot=D%02d"
                   % (o, o, o, o % a.depots + 1))
    contacts = []
    for i in range(a.accounts):
        acct = "C%06d" % (i + 1)
        owner = "o%02d" % (i % a.owners + 1)
        x, acc = rnd.random(), 0.0
        for tier, share, plan in TIERS:
            acc += share
            if x < acc:
                break
        out.append("CUSTOMER ADD %s name=\"Account %d\" payment=monthly depot=D%02d manager=%s"
                   % (acct, i + 1, rnd.randrange(a.depots) + 1, owner))
        out.append("CUSTOMER TIER %s tier=%s reason=contract" % (acct, tier))
        for kind, every in plan:
            t = start + rnd.randrange(every * DAY)
            while t < end:
                contacts.append((t, acct, kind, owner))
                t += every * DAY + rnd.randrange(-3 * DAY, 3 * DAY)
    contacts.sort()
    for t, acct, kind, owner in contacts:
        out.append("CONTACT ADD customer=%s kind=%s purpose=plan owner=%s done_at=%s summary=\"all well\""
                   % (acct, kind, owner, iso(t)))
    print("\n".join(out))


if __name__ == "__main__":
    main()
