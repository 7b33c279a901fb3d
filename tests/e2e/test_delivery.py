"""Delivery method, consent and attempts (issue 11 item 16, docs/rules.md
section 1): a delivered scan records where the parcel was left (to=) and,
anywhere but the receiver's hand, whether the receiver consented; a drop
without consent counts against delivery accuracy and is the complaint
category no_consent_drop; two attempts are free, each one after two failed
attempts records the extra-attempt fee."""
import unittest

from harness import line, parse_iso, sub_list, waybill_value_parts, waybill_value_to_events, waybill_value_with
from test_promise import MONTH, SENDER, SENDER_PHONE, PromiseCase


class DeliveryCase(PromiseCase):
    def out(self, dest):
        n = self.create(self.op, dest_depot=dest)
        for ev in ("picked_up", "departed", "out_for_delivery"):
            self.scan(self.op, n, ev, depot=dest)
        return n

    def accuracy(self, depot):
        r = self.op.cmd(line("KPI", month=MONTH, depot=depot))
        self.assertReply(r, 200)
        row = [x for x in r.records if x["kpi"] == "delivery_accuracy"][0]
        return int(row["numerator"]), int(row["denominator"])


class Place(DeliveryCase):
    def test_a_locker_with_consent_is_accurate(self):
        n = self.out("BJ41")
        self.scan(self.op, n, "delivered", depot="BJ41", signer="Locker 12, Gate 3", signer_is_consignee="no",
                  to="locker", consent="yes")
        g = self.get(self.op, n).rec
        self.assertEqual((g["delivered_to"], g["receiver_consent"]), ("locker", "yes"))
        ev = sub_list(g, "events")[-1]
        self.assertEqual((ev["event"], ev["to"], ev["consent"]), ("delivered", "locker", "yes"))
        self.assertNotIn("inaccurate", g)
        self.assertEqual(self.accuracy("BJ41"), (1, 1))

    def test_drops_without_consent_count_against_accuracy(self):
        for place in ("locker", "station", "neighbour", "other"):
            n = self.out("BJ42")
            self.scan(self.op, n, "delivered", depot="BJ42", signer="Station 7", signer_is_consignee="no",
                      to=place, consent="no")
            g = self.get(self.op, n).rec
            self.assertEqual((g["delivered_to"], g["receiver_consent"], g["inaccurate"]), (place, "no", "yes"))
        self.assertEqual(self.accuracy("BJ42"), (0, 4))

    def test_a_hand_delivery_reads_as_before(self):
        # no to=: into the hand; the signer decides accuracy, no consent is kept
        n = self.out("BJ43")
        self.scan(self.op, n, "delivered", depot="BJ43", signer="Li Na", signer_is_consignee="yes")
        g = self.get(self.op, n).rec
        self.assertEqual(g["delivered_to"], "hand")
        self.assertNotIn("receiver_consent", g)
        self.assertNotIn("consent", sub_list(g, "events")[-1])
        n = self.out("BJ43")
        self.scan(self.op, n, "delivered", depot="BJ43", signer="Guard", signer_is_consignee="no", to="hand")
        self.assertEqual(self.get(self.op, n)["inaccurate"], "yes")
        self.assertEqual(self.accuracy("BJ43"), (1, 2))

    def test_bad_input_is_refused_and_nothing_written(self):
        n = self.out("BJ44")
        before = self.counts(self.admin)
        deliver = dict(depot="BJ44", signer="Li Na", signer_is_consignee="yes", expect=None)
        r = self.scan(self.op, n, "delivered", to="hand", consent="yes", **deliver)
        self.assertReply(r, 400, "consent is not asked for a hand delivery: it goes with a parcel left elsewhere "
                                 "(to=locker, station, neighbour or other)")
        r = self.scan(self.op, n, "delivered", consent="no", **deliver)
        self.assertReply(r, 400, "consent is not asked for a hand delivery: it goes with a parcel left elsewhere "
                                 "(to=locker, station, neighbour or other)")
        r = self.scan(self.op, n, "delivered", to="station", **deliver)
        self.assertReply(r, 400, "missing argument 'consent' (yes or no): a parcel left at the station needs to "
                                 "say whether the receiver agreed")
        self.assertReply(self.scan(self.op, n, "delivered", to="doorstep", consent="yes", **deliver), 400)
        self.assertReply(self.scan(self.op, n, "delivered", to="locker", consent="perhaps", **deliver), 400)
        r = self.scan(self.op, n, "delivery_failed", depot="BJ44", reason="nobody home", to="locker", expect=None)
        self.assertReply(r, 400, "to and consent go with a delivered scan only")
        r = self.scan(self.op, n, "held", depot="BJ44", consent="yes", expect=None)
        self.assertReply(r, 400, "to and consent go with a delivered scan only")
        self.assertEqual(self.counts(self.admin), before)
        g = self.get(self.op, n).rec
        self.assertEqual(g["status"], "out_for_delivery")
        self.assertNotIn("delivered_to", g)


class Complaint(DeliveryCase):
    def open(self, n, category):
        r = self.op.cmd(line("COMPLAINT", "OPEN", channel="phone", category=category, waybill=n,
                             customer_name="Li Na", customer_phone="13900139000", text="left in a locker"))
        self.assertReply(r, 201)
        g = self.op.cmd(line("COMPLAINT", "GET", r["id"]))
        self.assertReply(g, 200)
        return g.rec

    def test_no_consent_drop_is_a_category_against_accuracy(self):
        n = self.out("BJ51")
        self.scan(self.op, n, "delivered", depot="BJ51", signer="Locker 3", signer_is_consignee="no",
                  to="locker", consent="yes")
        self.assertEqual(self.accuracy("BJ51"), (1, 1))
        # the receiver says they never agreed: the delivery was not accurate
        c = self.open(n, "no_consent_drop")
        self.assertEqual((c["category"], c["level"]), ("no_consent_drop", "handler"))
        self.assertEqual(self.get(self.op, n)["inaccurate"], "yes")
        self.assertEqual(self.accuracy("BJ51"), (0, 1))
        # the same clocks as the other misdelivery categories
        other = self.open(self.out("BJ51"), "wrong_signature")
        for clock in ("acknowledge_by", "resolve_by"):
            self.assertEqual(parse_iso(c[clock]) - parse_iso(c["opened_at"]),
                             parse_iso(other[clock]) - parse_iso(other["opened_at"]), clock)
        s = self.op.cmd(line("COMPLAINT", "STATS", month=MONTH))
        self.assertReply(s, 200)
        self.assertEqual(s["by_category.no_consent_drop"], "1")


class Attempts(DeliveryCase):
    def test_two_attempts_are_free_then_each_costs_the_fee(self):
        n = self.out("BJ61")
        self.scan(self.op, n, "delivery_failed", depot="BJ61", reason="nobody home")
        r = self.scan(self.op, n, "out_for_delivery", depot="BJ61")
        self.assertNotIn("fee_fen", r.rec)
        self.scan(self.op, n, "delivery_failed", depot="BJ61", reason="nobody home")
        g = self.get(self.op, n).rec
        self.assertEqual((g["delivery_attempts"], g["failed_attempts"], g["extra_fees_fen"]), ("2", "2", "0"))
        # the third attempt, after two failed
        r = self.scan(self.op, n, "out_for_delivery", depot="BJ61")
        self.assertEqual(r["fee_fen"], "500")
        g = self.get(self.op, n).rec
        self.assertEqual((g["delivery_attempts"], g["failed_attempts"], g["extra_fees_fen"]), ("3", "2", "500"))
        ev = sub_list(g, "events")[-1]
        self.assertEqual((ev["event"], ev["attempt"], ev["fee_fen"]), ("out_for_delivery", "3", "500"))
        self.assertNotIn("fee_fen", sub_list(g, "events")[-3])
        # held at the depot and out again: a fourth attempt, charged again
        self.scan(self.op, n, "delivery_failed", depot="BJ61", reason="refused at the door")
        self.scan(self.op, n, "held", depot="BJ61")
        self.assertEqual(self.scan(self.op, n, "out_for_delivery", depot="BJ61")["fee_fen"], "500")
        self.assertEqual(self.get(self.op, n)["extra_fees_fen"], "1000")

    def test_fees_add_to_an_address_change_fee(self):
        n = self.create(self.op, dest_depot="BJ62")
        self.scan(self.op, n, "picked_up")
        self.scan(self.op, n, "departed")
        r = self.op.cmd(line("WAYBILL", "REDIRECT", n, address="1 Harbour Road", city="Tianjin", dest_depot="TJ62",
                             requester=SENDER, requester_phone=SENDER_PHONE))
        self.assertReply(r, 200)
        for _ in range(2):
            self.scan(self.op, n, "out_for_delivery", depot="TJ62")
            self.scan(self.op, n, "delivery_failed", depot="TJ62", reason="nobody home")
        self.scan(self.op, n, "out_for_delivery", depot="TJ62")
        self.assertEqual(self.get(self.op, n)["extra_fees_fen"], "1500")


class AttemptsConfigured(DeliveryCase):
    daemon_args = ("--free-delivery-attempts", "3", "--extra-attempt-fee-fen", "800")

    def test_the_figures_are_options(self):
        n = self.out("BJ71")
        fees = []
        for _ in range(4):
            self.scan(self.op, n, "delivery_failed", depot="BJ71", reason="nobody home")
            fees.append(self.scan(self.op, n, "out_for_delivery", depot="BJ71").get("fee_fen"))
        self.assertEqual(fees, [None, None, "800", "800"])


class StoredBefore(DeliveryCase):
    def test_attempts_of_a_waybill_stored_before_are_counted_from_its_history(self):
        import lmdb
        import msgpack
        n = self.out("BJ81")
        self.scan(self.op, n, "delivery_failed", depot="BJ81", reason="nobody home")
        self.scan(self.op, n, "out_for_delivery", depot="BJ81")
        self.scan(self.op, n, "delivery_failed", depot="BJ81", reason="nobody home")
        self.daemon.stop()
        env = lmdb.open(self.daemon.data_dir, max_dbs=64, map_size=1024 << 20)
        with env.begin(write=True) as txn:
            waybills = env.open_db(b"waybills", txn=txn)
            _, rec = waybill_value_to_events(txn, env, n, txn.get(n.encode(), db=waybills))
            rec = msgpack.unpackb(rec, raw=False)
            del rec["delivery_attempts"], rec["failed_attempts"]
            # the record alone (no view): a value as written then
            txn.put(n.encode(), msgpack.packb(rec, use_bin_type=True), db=waybills)
        env.close()
        self.daemon.restart()
        self.op = self.conn("op1")
        r = self.scan(self.op, n, "out_for_delivery", depot="BJ81")
        self.assertEqual(r["fee_fen"], "500")
        g = self.get(self.op, n).rec
        self.assertEqual((g["delivery_attempts"], g["failed_attempts"]), ("3", "2"))

    def test_attempts_are_counted_over_events_and_the_value(self):
        """The history walked for attempts is read from both places: its
        oldest events in `events`, its newest in the waybill's value."""
        import lmdb
        import msgpack
        n = self.out("BJ82")  # its 4th event the first attempt
        self.scan(self.op, n, "delivery_failed", depot="BJ82", reason="nobody home")
        for _ in range(20):
            self.scan(self.op, n, "damaged", depot="BJ82")
        self.scan(self.op, n, "out_for_delivery", depot="BJ82")  # the 26th
        for _ in range(6):
            self.scan(self.op, n, "damaged", depot="BJ82")
        self.scan(self.op, n, "delivery_failed", depot="BJ82", reason="nobody home")  # the 33rd
        self.daemon.stop()
        env = lmdb.open(self.daemon.data_dir, max_dbs=64, map_size=1024 << 20)
        with env.begin(write=True) as txn:
            waybills = env.open_db(b"waybills", txn=txn)
            value = txn.get(n.encode(), db=waybills)
            parts = waybill_value_parts(value)
            # the first attempt and its failure in `events`, the second and its failure in the value
            self.assertTrue(5 <= parts["spilled"] < 26, parts["spilled"])
            self.assertEqual(parts["spilled"] + len(parts["recent"]), 33)
            rec = msgpack.unpackb(parts["record"], raw=False)
            del rec["delivery_attempts"], rec["failed_attempts"]
            txn.put(n.encode(), waybill_value_with(value, record=msgpack.packb(rec, use_bin_type=True)),
                    db=waybills)
        env.close()
        self.daemon.restart()
        self.op = self.conn("op1")
        r = self.scan(self.op, n, "out_for_delivery", depot="BJ82")
        self.assertEqual(r["fee_fen"], "500")
        g = self.get(self.op, n).rec
        self.assertEqual((g["delivery_attempts"], g["failed_attempts"]), ("3", "2"))


if __name__ == "__main__":
    unittest.main()
