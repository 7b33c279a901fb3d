"""The promise in force (issue 11 item 15, docs/rules.md sections 1 and 3):
an address change the sender asked for gives the parcel a new promised time
(WAYBILL REDIRECT promised_at=, by default a re-route's old promise plus
reroute_allowance_secs), the first promise stays in the history, and the
parcel is judged late only against the promise in force — on WAYBILL GET,
for claims, on a complaint's waybill, in the monthly report and the
on-time KPI. A recall stops the lateness clock. Waybills stored before
(without the new fields, with a first-version view) read as they did."""
import unittest

from harness import DAY, T0, DaemonTestCase, iso, line, sub_list, waybill_value_to_events

SENDER = "Zhang Wei"
SENDER_PHONE = "13800138000"
PROMISE = T0 + 2 * DAY
ALLOWANCE = 2 * DAY  # reroute_allowance_secs' default
MONTH = "2026-03"


class PromiseCase(DaemonTestCase):
    create_users = ("op1",)

    def setUp(self):
        super().setUp()
        self.op = self.conn("op1")
        self.admin = self.conn("admin")
        self.set_clock(self.admin, T0)

    def in_transit(self, dest):
        n = self.create(self.op, promised_at=PROMISE, dest_depot=dest)
        self.scan(self.op, n, "picked_up")
        self.scan(self.op, n, "departed")
        return n

    def redirect(self, n, expect=200, msg=None, **named):
        args = dict(address="1 Harbour Road", city="Tianjin", requester=SENDER, requester_phone=SENDER_PHONE)
        args.update(named)
        r = self.op.cmd(line("WAYBILL", "REDIRECT", n, **{k: v for k, v in args.items() if v is not None}))
        return self.assertReply(r, expect, msg)

    def deliver(self, n, depot, at):
        self.set_clock(self.admin, at)
        self.scan(self.op, n, "out_for_delivery", depot=depot, at=iso(at - 3600))
        self.scan(self.op, n, "delivered", depot=depot, at=iso(at), signer="Li Na", signer_is_consignee="yes")

    def claim(self, n, ctype, expect, msg=None):
        r = self.op.cmd(line("CLAIM", "FILE", waybill=n, type=ctype, claimed_fen=1500, claimant="sender",
                             claimant_name=SENDER, claimant_phone=SENDER_PHONE))
        return self.assertReply(r, expect, msg)

    def on_time_delivery(self, depot):
        r = self.op.cmd(line("KPI", month=MONTH, depot=depot))
        self.assertReply(r, 200)
        row = [x for x in r.records if x["kpi"] == "on_time_delivery"][0]
        return int(row["numerator"]), int(row["denominator"])

    def delivered_late(self, depot):
        r = self.op.cmd(line("REPORT", "MONTH", month=MONTH, depot=depot))
        self.assertReply(r, 200)
        return int(r.rec["quality.delivered_late"]), int(r.rec["quality.delivered"])


class Redirect(PromiseCase):
    def test_reroute_before_the_promise_moves_it(self):
        n = self.in_transit("TJ11")
        r = self.redirect(n, dest_depot="TJ11")
        self.assertEqual(r.rec, {"number": n, "rerouted": "yes", "fee_fen": "1000",
                                 "promised_at": iso(PROMISE + ALLOWANCE)})
        g = self.get(self.op, n).rec
        self.assertEqual(g["promised_at"], iso(PROMISE + ALLOWANCE))
        self.assertEqual(g["original_promised_at"], iso(PROMISE))
        self.assertNotIn("late_carried_secs", g)
        ev = sub_list(g, "events")[-1]
        self.assertEqual((ev["event"], ev["old_promised_at"], ev["new_promised_at"]),
                         ("redirected", iso(PROMISE), iso(PROMISE + ALLOWANCE)))
        # a day past the first promise: not late, nothing to claim
        self.set_clock(self.admin, PROMISE + DAY)
        g = self.get(self.op, n).rec
        self.assertEqual((g["late"], g["late_secs"], g["completely_delayed"]), ("no", "0", "no"))
        self.claim(n, "delay", 422, "a delay claim cannot be filed: the parcel is not late against the promise "
                   "in force (%s, set when the sender's address change moved it from %s): a change the sender "
                   "asked for is not our delay" % (iso(PROMISE + ALLOWANCE), iso(PROMISE)))
        # the complaint desk sees the same judgement
        r = self.op.cmd(line("COMPLAINT", "OPEN", channel="phone", category="delay", waybill=n,
                             customer_name="Li Na", customer_phone="13900139000", text="still not here"))
        self.assertReply(r, 201)
        c = self.op.cmd(line("COMPLAINT", "GET", r["id"]))
        self.assertReply(c, 200)
        self.assertEqual((c["waybill_record.promised_at"], c["waybill_record.late"], c["waybill_record.late_secs"]),
                         (iso(PROMISE + ALLOWANCE), "no", "0"))
        # delivered after the first promise, before the one in force: on time
        self.deliver(n, "TJ11", PROMISE + DAY + 600)
        self.assertEqual(self.on_time_delivery("TJ11"), (1, 1))
        self.assertEqual(self.delivered_late("TJ11"), (0, 1))
        g = self.get(self.op, n).rec
        self.assertEqual((g["late"], g["late_secs"]), ("no", "0"))

    def test_reroute_after_the_promise_keeps_the_delay_already_ours(self):
        n = self.in_transit("TJ12")
        self.set_clock(self.admin, PROMISE + DAY)
        r = self.redirect(n, dest_depot="TJ12")
        g = self.get(self.op, n).rec
        carried = int(g["late_carried_secs"])
        changed_at = PROMISE + carried
        # the allowance runs from the change: the old promise was already past
        self.assertGreaterEqual(carried, DAY)
        self.assertLess(carried, DAY + 60)
        self.assertEqual(r["promised_at"], iso(changed_at + ALLOWANCE))
        self.assertEqual((g["promised_at"], g["original_promised_at"]), (iso(changed_at + ALLOWANCE), iso(PROMISE)))
        # the re-routed leg's clock waits for the new promise; the day stays late
        self.set_clock(self.admin, changed_at + ALLOWANCE)
        g = self.get(self.op, n).rec
        self.assertEqual((g["late"], g["late_secs"]), ("yes", str(carried)))
        self.claim(n, "delay", 201)
        # delivered before the new promise: still a late delivery (the first day was ours)
        self.deliver(n, "TJ12", changed_at + ALLOWANCE - 600)
        self.assertEqual(self.on_time_delivery("TJ12"), (0, 1))
        self.assertEqual(self.delivered_late("TJ12"), (1, 1))
        self.assertEqual(self.get(self.op, n)["late_secs"], str(carried))

    def test_a_given_promise_and_the_same_city(self):
        # within the city nothing moves the promise unless the desk gives one
        n = self.in_transit("BJ13")
        r = self.redirect(n, city="Beijing", address="9 New Street")
        self.assertEqual(r["promised_at"], iso(PROMISE))
        g = self.get(self.op, n).rec
        self.assertEqual(g["promised_at"], iso(PROMISE))
        self.assertNotIn("original_promised_at", g)
        # given: it wins over the allowance
        n = self.in_transit("TJ13")
        r = self.redirect(n, dest_depot="TJ13", promised_at=iso(PROMISE + 5 * DAY))
        self.assertEqual(r["promised_at"], iso(PROMISE + 5 * DAY))
        self.set_clock(self.admin, PROMISE + 4 * DAY)
        self.assertEqual(self.get(self.op, n)["late"], "no")

    def test_a_promise_not_after_the_change_is_refused_and_nothing_written(self):
        n = self.in_transit("TJ14")
        before = self.get(self.op, n).rec
        counts = self.counts(self.admin)
        now = self.clock(self.admin)
        self.redirect(n, 422, "address change refused: the new promised time must be after the address change",
                      dest_depot="TJ14", promised_at=iso(now - 60))
        self.redirect(n, 400, dest_depot="TJ14", promised_at="next tuesday")
        self.assertEqual(self.counts(self.admin), counts)
        after = self.get(self.op, n).rec
        for k in ("promised_at", "redirects", "event_count", "receiver_city", "extra_fees_fen"):
            self.assertEqual(after[k], before[k], k)
        self.assertNotIn("original_promised_at", after)


class Recall(PromiseCase):
    def recall(self, n):
        r = self.op.cmd(line("WAYBILL", "RECALL", n, requester=SENDER, requester_phone=SENDER_PHONE))
        self.assertReply(r, 200)

    def test_a_recall_before_the_promise_is_never_late(self):
        n = self.in_transit("BJ21")
        self.recall(n)
        self.set_clock(self.admin, PROMISE + 10 * DAY)
        g = self.get(self.op, n).rec
        self.assertEqual((g["late"], g["late_secs"], g["completely_delayed"]), ("no", "0", "no"))
        self.claim(n, "delay", 422, "a delay claim cannot be filed: the parcel is not late against its promise")
        self.claim(n, "loss", 422, "a loss claim cannot be filed: the parcel is neither reported lost nor "
                   "completely delayed")

    def test_a_recall_after_the_promise_stops_the_clock(self):
        n = self.in_transit("BJ22")
        self.set_clock(self.admin, PROMISE + DAY)
        self.recall(n)
        g = self.get(self.op, n).rec
        frozen = int(g["late_secs"])
        self.assertEqual(g["recalled_at"], iso(PROMISE + frozen))
        self.assertGreaterEqual(frozen, DAY)
        self.set_clock(self.admin, PROMISE + 30 * DAY)
        g = self.get(self.op, n).rec
        self.assertEqual((g["late"], g["late_secs"], g["completely_delayed"]), ("yes", str(frozen), "no"))
        self.claim(n, "delay", 201)


class ReceiverFault(PromiseCase):
    """A delivery that failed by the receiver's doing (SCAN delivery_failed
    cause=, r18): not our delay, the promise moves by
    receiver_fault_allowance_secs (a day) as for a re-route; cause=carrier,
    the default, keeps the old meaning."""

    def fail_delivery(self, n, depot, at, cause=None, reason="receiver unreachable"):
        self.set_clock(self.admin, at)
        self.scan(self.op, n, "out_for_delivery", depot=depot, at=iso(at - 1800))
        named = {"cause": cause} if cause else {}
        return self.scan(self.op, n, "delivery_failed", depot=depot, at=iso(at), reason=reason, **named)

    def test_unreachable_before_the_promise_is_not_late(self):
        n = self.in_transit("TJ41")
        self.fail_delivery(n, "TJ41", PROMISE - 3600, cause="receiver_unreachable")
        g = self.get(self.op, n).rec
        self.assertEqual((g["promised_at"], g["original_promised_at"], g["promise_moved_by"]),
                         (iso(PROMISE + DAY), iso(PROMISE), "failed_delivery"))
        self.assertNotIn("late_carried_secs", g)
        ev = sub_list(g, "events")[-1]
        self.assertEqual((ev["event"], ev["cause"], ev["old_promised_at"], ev["new_promised_at"]),
                         ("delivery_failed", "receiver_unreachable", iso(PROMISE), iso(PROMISE + DAY)))
        # past the first promise: not late, not completely delayed a full
        # limit past it either, nothing to claim
        days = 3 if g["same_city"] == "yes" else 7
        self.set_clock(self.admin, PROMISE + days * DAY)
        g = self.get(self.op, n).rec
        self.assertEqual((g["late"], g["completely_delayed"]), ("yes", "no"))
        self.assertEqual(int(g["late_secs"]), (days - 1) * DAY)
        self.claim(n, "loss", 422, "a loss claim cannot be filed: the parcel is neither reported lost nor "
                   "completely delayed")
        self.set_clock(self.admin, PROMISE + DAY // 2)
        self.assertEqual(self.get(self.op, n)["late"], "no")
        self.claim(n, "delay", 422, "a delay claim cannot be filed: the parcel is not late against the promise "
                   "in force (%s, set when a delivery failed by the receiver's doing moved it from %s): that is "
                   "not our delay"
                   % (iso(PROMISE + DAY), iso(PROMISE)))
        r = self.op.cmd(line("COMPLAINT", "OPEN", channel="phone", category="delay", waybill=n,
                             customer_name="Li Na", customer_phone="13900139000", text="still not here"))
        self.assertReply(r, 201)
        c = self.op.cmd(line("COMPLAINT", "GET", r["id"]))
        self.assertEqual((c["waybill_record.promised_at"], c["waybill_record.late"]), (iso(PROMISE + DAY), "no"))
        # delivered after the first promise, before the one in force: on time
        self.deliver(n, "TJ41", PROMISE + DAY - 600)
        self.assertEqual(self.on_time_delivery("TJ41"), (1, 1))
        self.assertEqual(self.delivered_late("TJ41"), (0, 1))
        self.assertEqual(self.get(self.op, n)["late"], "no")

    def test_without_a_cause_the_failure_is_ours(self):
        # the same story scanned as before (no cause): carrier, late as today
        n = self.in_transit("TJ42")
        self.fail_delivery(n, "TJ42", PROMISE - 3600)
        g = self.get(self.op, n).rec
        self.assertEqual(g["promised_at"], iso(PROMISE))
        for k in ("original_promised_at", "promise_moved_by"):
            self.assertNotIn(k, g)
        ev = sub_list(g, "events")[-1]
        self.assertEqual(ev["cause"], "carrier")
        self.assertNotIn("new_promised_at", ev)
        self.deliver(n, "TJ42", PROMISE + DAY - 600)
        self.assertEqual(self.get(self.op, n)["late"], "yes")
        self.claim(n, "delay", 201)
        self.assertEqual(self.on_time_delivery("TJ42"), (0, 1))
        self.assertEqual(self.delivered_late("TJ42"), (1, 1))

    def test_after_the_promise_the_delay_already_ours_stays(self):
        n = self.in_transit("TJ43")
        self.fail_delivery(n, "TJ43", PROMISE + 3600, cause="wrong_address", reason="no such number")
        g = self.get(self.op, n).rec
        self.assertEqual((g["promised_at"], g["original_promised_at"], g["late_carried_secs"]),
                         (iso(PROMISE + 3600 + DAY), iso(PROMISE), "3600"))
        # the clock waits for the new promise; the hour stays late and claimable
        self.set_clock(self.admin, PROMISE + 3600 + DAY)
        g = self.get(self.op, n).rec
        self.assertEqual((g["late"], g["late_secs"]), ("yes", "3600"))
        self.claim(n, "delay", 201)
        self.deliver(n, "TJ43", PROMISE + 3600 + DAY - 600)
        self.assertEqual(self.on_time_delivery("TJ43"), (0, 1))

    def test_a_cause_is_checked_and_nothing_written(self):
        n = self.in_transit("TJ44")
        self.set_clock(self.admin, PROMISE - 3600)
        self.scan(self.op, n, "out_for_delivery", depot="TJ44")
        before = self.get(self.op, n).rec
        counts = self.counts(self.admin)
        r = self.scan(self.op, n, "delivery_failed", depot="TJ44", expect=None, reason="x", cause="weather")
        self.assertReply(r, 400, msg_re="^argument 'cause' must be one of: carrier")
        r = self.scan(self.op, n, "held", depot="TJ44", expect=None, cause="receiver_unreachable")
        self.assertReply(r, 400, "cause goes with a delivery_failed scan only")
        self.assertEqual(self.counts(self.admin), counts)
        after = self.get(self.op, n).rec
        for k in ("status", "promised_at", "event_count"):
            self.assertEqual(after[k], before[k], k)
        # every receiver-side cause moves the promise
        for cause in ("wrong_phone", "wrong_name", "receiver_changed"):
            self.set_clock(self.admin, T0)
            n = self.in_transit("TJ44")
            self.fail_delivery(n, "TJ44", PROMISE - 3600, cause=cause, reason=cause)
            self.assertEqual(self.get(self.op, n)["promised_at"], iso(PROMISE + DAY), cause)


class StoredBefore(PromiseCase):
    """Waybills written before this change: no recalled_at, no new promise
    fields, a first-version view (its head without the carried lateness
    and the recall's time)."""

    def rewrite(self, numbers):
        import lmdb
        import msgpack
        self.daemon.stop()
        env = lmdb.open(self.daemon.data_dir, max_dbs=64, map_size=1024 << 20)
        with env.begin(write=True) as txn:
            waybills = env.open_db(b"waybills", txn=txn)
            views = env.open_db(b"wb_views", txn=txn)
            for n in numbers:
                key = n.encode()
                view, rec = waybill_value_to_events(txn, env, n, txn.get(key, db=waybills))
                rec = msgpack.unpackb(rec, raw=False)
                rec.pop("recalled_at", None)
                # the record alone, its view in wb_views: as written then
                txn.put(key, msgpack.packb(rec, use_bin_type=True), db=waybills)
                self.assertEqual(view[0], 3)
                # version 1: the same head without the two be64s after
                # same_city and the customer's place after them
                txn.put(key, b"\x01" + view[1:22] + view[42:], db=views)
        env.close()
        self.daemon.restart()
        self.op = self.conn("op1")
        self.admin = self.conn("admin")

    def raw_get(self, n):
        self.op.send(line("WAYBILL", "GET", n) + "\r\n")
        return self.op.read_exact_reply_bytes()

    def test_old_waybills_read_as_before(self):
        plain = self.in_transit("BJ31")
        recalled = self.in_transit("BJ32")
        self.set_clock(self.admin, PROMISE + DAY)
        self.op.cmd(line("WAYBILL", "RECALL", recalled, requester=SENDER, requester_phone=SENDER_PHONE))
        frozen = self.get(self.op, recalled)["late_secs"]
        self.assertGreaterEqual(int(frozen), DAY)
        self.set_clock(self.admin, PROMISE - DAY)
        plain_before = self.raw_get(plain)
        self.rewrite([plain, recalled])
        self.set_clock(self.admin, PROMISE - DAY)
        # a waybill without the new fields, from its old view: the same bytes
        self.assertEqual(self.raw_get(plain), plain_before)
        # a recall without recalled_at stopped the clock at its event's time
        self.set_clock(self.admin, PROMISE + 20 * DAY)
        g = self.get(self.op, recalled).rec
        self.assertNotIn("recalled_at", g)
        self.assertEqual((g["late"], g["late_secs"], g["completely_delayed"]), ("yes", frozen, "no"))
        self.assertEqual(self.get(self.op, plain)["late"], "yes")
        # a write renews the view; the judgement stays
        self.scan(self.op, recalled, "arrived", depot="SH01")
        self.assertEqual(self.get(self.op, recalled)["late_secs"], frozen)
        self.scan(self.op, plain, "arrived", depot="BJ31")
        self.assertAlmostEqual(int(self.get(self.op, plain)["late_secs"]), self.clock(self.admin) - PROMISE, delta=5)


if __name__ == "__main__":
    unittest.main()
