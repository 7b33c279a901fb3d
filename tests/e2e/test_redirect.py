"""WAYBILL REDIRECT (address change) and WAYBILL RECALL: who may ask, when,
how often, fees, and the events they leave (docs/rules.md section 3)."""
import unittest

from harness import DaemonTestCase, line, sub_list

SENDER = "Zhang Wei"
SENDER_PHONE = "13800138000"
TOO_FEW = ("the parcel has gone out for delivery, and the sender decides (redirect or return) only once the free "
           "delivery attempts have failed (1 of 2 failed)")
ONLY_SENDER = ("only the sender may ask: give requester_phone matching the sender's phone, "
               "or an ID check (id_type, id_last4) of the sender by name")


class RedirectCase(DaemonTestCase):
    create_users = ("op1",)

    def setUp(self):
        super().setUp()
        self.op = self.conn("op1")
        self.admin = self.conn("admin")

    def redirect(self, number, expect, msg=None, **named):
        args = dict(address="9 New Street", city="Beijing", requester=SENDER)
        args.update(named)
        r = self.op.cmd(line("WAYBILL", "REDIRECT", number, **{k: v for k, v in args.items() if v is not None}))
        self.assertReply(r, expect, msg)
        return r

    def in_transit(self):
        n = self.create(self.op)
        self.scan(self.op, n, "picked_up")
        self.scan(self.op, n, "departed")
        return n



class Redirect(RedirectCase):
    def test_sender_by_phone_same_city(self):
        n = self.in_transit()
        r = self.redirect(n, 200, "address changed", requester_phone=SENDER_PHONE)
        # within the city the promise stays (issue 11 item 15: the reply names it)
        self.assertEqual(r.rec, {"number": n, "rerouted": "no", "fee_fen": "0",
                                 "promised_at": self.get(self.op, n)["promised_at"]})
        g = self.get(self.op, n).rec
        self.assertEqual(g["receiver_address"], "9 New Street")
        self.assertEqual(g["receiver_city"], "Beijing")
        self.assertEqual(g["dest_depot"], "BJ02")
        self.assertEqual(g["redirects"], "1")
        self.assertEqual(g["extra_fees_fen"], "0")
        self.assertEqual(g["status"], "in_transit")
        self.assertEqual(g["event_count"], "4")
        ev = sub_list(g, "events")[-1]
        self.assertEqual(ev["event"], "redirected")
        self.assertEqual(ev["requested_by"], SENDER)
        self.assertEqual(ev["accepted_by"], "op1")
        self.assertEqual(ev["verified_by"], "sender_phone")
        self.assertEqual(ev["old_address"], "5 Chang'an Avenue")
        self.assertEqual(ev["new_address"], "9 New Street")
        self.assertEqual(ev["old_city"], "Beijing")
        self.assertEqual(ev["new_city"], "Beijing")
        self.assertEqual(ev["rerouted"], "no")
        self.assertEqual(ev["fee_fen"], "0")

    def test_listed_under_the_new_depot(self):
        # a redirect re-indexes the waybill for WAYBILL LIST (a scan does
        # not: it changes nothing indexed); the old destination is no
        # longer listed
        n = self.in_transit()
        self.redirect(n, 200, "address changed", city="Tianjin", address="1 Harbour Road",
                      dest_depot="TJ01", id_type="resident_id", id_last4="123X")
        self.scan(self.op, n, "arrived")
        status = self.get(self.op, n)["status"]
        m = self.daemon.mp("admin")
        for depot, listed in (("TJ01", True), ("SH01", True), ("BJ02", False)):
            r = m.call("WAYBILL", "LIST", {"depot": depot})
            self.assertEqual(r["code"], 200, r)
            rows = [row for row in r["data"] if row["number"] == n]
            self.assertEqual(len(rows), 1 if listed else 0, (depot, r["data"]))
            if listed:
                self.assertEqual(rows[0]["status"], status)
        m.close()

    def test_sender_by_id_check_other_city_charges_fee(self):
        n = self.in_transit()
        before = self.event_count(self.op, n)
        # another city needs the new destination depot
        self.redirect(n, 400, "missing argument 'dest_depot': the new address is in another city",
                      city="Tianjin", address="1 Harbour Road", id_type="resident_id", id_last4="123X")
        self.assertEqual(self.event_count(self.op, n), before)
        r = self.redirect(n, 200, "address changed", city="Tianjin", address="1 Harbour Road",
                          dest_depot="TJ01", id_type="resident_id", id_last4="123X")
        self.assertEqual(r.rec, {"number": n, "rerouted": "yes", "fee_fen": "1000",
                                 "promised_at": self.get(self.op, n)["promised_at"]})
        g = self.get(self.op, n).rec
        self.assertEqual((g["receiver_city"], g["receiver_address"], g["dest_depot"]),
                         ("Tianjin", "1 Harbour Road", "TJ01"))
        self.assertEqual(g["extra_fees_fen"], "1000")
        self.assertEqual(g["fee_fen"], "1500")
        ev = sub_list(g, "events")[-1]
        self.assertEqual(ev["event"], "redirected")
        self.assertEqual((ev["old_dest_depot"], ev["new_dest_depot"]), ("BJ02", "TJ01"))
        self.assertEqual(ev["rerouted"], "yes")
        self.assertEqual(ev["fee_fen"], "1000")
        self.assertEqual((ev["id_type"], ev["id_last4"]), ("resident_id", "123X"))
        self.assertEqual(ev["requested_by"], SENDER)
        self.assertEqual(ev["accepted_by"], "op1")
        self.assertNotIn("verified_by", ev)

    def test_refused_for_a_stranger(self):
        n = self.in_transit()
        before = self.counts(self.admin)
        self.redirect(n, 422, ONLY_SENDER, requester="Mallory", requester_phone="13111111111")
        self.redirect(n, 422, ONLY_SENDER, requester="Mallory")
        # an ID check of somebody who is not the sender
        self.redirect(n, 422, ONLY_SENDER, requester="Mallory", id_type="passport", id_last4="9876")
        # the receiver is not the sender either
        self.redirect(n, 422, ONLY_SENDER, requester="Li Na", requester_phone="13900139000")
        self.redirect(n, 400, "an ID check needs both id_type and id_last4", id_type="passport")
        self.redirect(n, 400, "an ID check needs both id_type and id_last4", id_last4="9876")
        self.redirect(n, 400, "argument 'id_last4' must be exactly the last 4 letters or digits of the ID, "
                              "never the whole number", id_type="resident_id", id_last4="110101199003071234")
        self.redirect(n, 400, "missing argument 'requester'", requester=None, requester_phone=SENDER_PHONE)
        self.assertEqual(self.counts(self.admin), before)
        g = self.get(self.op, n).rec
        self.assertEqual((g["redirects"], g["receiver_address"]), ("0", "5 Chang'an Avenue"))

    def test_only_one_change(self):
        n = self.in_transit()
        self.redirect(n, 200, requester_phone=SENDER_PHONE)
        before = self.event_count(self.op, n)
        self.redirect(n, 422, "address change refused: this waybill has had its 1 allowed change(s)",
                      requester_phone=SENDER_PHONE, address="10 Other Street")
        g = self.get(self.op, n).rec
        self.assertEqual(g["event_count"], str(before))
        self.assertEqual(g["receiver_address"], "9 New Street")
        self.assertEqual(g["redirects"], "1")

    def test_refused_out_for_delivery_and_after_one_failed_attempt(self):
        n = self.in_transit()
        self.scan(self.op, n, "arrived", depot="BJ02")
        self.scan(self.op, n, "out_for_delivery", depot="BJ02")
        self.redirect(n, 409, "address change refused: the parcel is out for delivery",
                      requester_phone=SENDER_PHONE)
        self.scan(self.op, n, "delivery_failed", depot="BJ02", reason="nobody home")
        self.redirect(n, 409, "address change refused: " + TOO_FEW, requester_phone=SENDER_PHONE)
        self.scan(self.op, n, "held", depot="BJ02")
        self.assertEqual(self.get(self.op, n)["status"], "held")
        before = self.event_count(self.op, n)
        self.redirect(n, 409, "address change refused: " + TOO_FEW, requester_phone=SENDER_PHONE)
        r = self.op.cmd(line("WAYBILL", "RECALL", n, requester=SENDER, requester_phone=SENDER_PHONE))
        self.assertReply(r, 409, "recall refused: " + TOO_FEW)
        # held, then sent on elsewhere: it has gone out, whatever failed
        self.scan(self.op, n, "departed", depot="BJ02")
        self.redirect(n, 409, "address change refused: the parcel has gone out for delivery",
                      requester_phone=SENDER_PHONE)
        g = self.get(self.op, n).rec
        self.assertEqual(g["event_count"], str(before + 1))
        self.assertEqual(g["redirects"], "0")

    def test_refused_when_delivered_lost_or_unknown(self):
        n = self.in_transit()
        self.scan(self.op, n, "lost", depot="HUB1")
        self.redirect(n, 409, "address change refused: the parcel is reported lost", requester_phone=SENDER_PHONE)
        self.scan(self.op, n, "found", depot="HUB1")
        self.scan(self.op, n, "out_for_delivery", depot="BJ02")
        self.scan(self.op, n, "delivered", depot="BJ02", signer="Li Na", signer_is_consignee=True)
        self.redirect(n, 409, "address change refused: the parcel is delivered", requester_phone=SENDER_PHONE)
        self.redirect("123450000", 404, "no waybill 123450000", requester_phone=SENDER_PHONE)

    def test_redirect_before_pickup(self):
        n = self.create(self.op)
        self.redirect(n, 200, requester_phone=SENDER_PHONE)
        self.assertEqual(self.get(self.op, n)["status"], "created")


class AfterTwoFailedAttempts(RedirectCase):
    """Corrected rule 1.6: after the free delivery attempts (2) failed the
    sender decides, redirect or return, while the parcel is held or its
    delivery failed (docs/rules.md section 3)."""

    def failed_twice(self, then=None):
        n = self.in_transit()
        self.scan(self.op, n, "arrived", depot="BJ02")
        for _ in range(2):
            self.scan(self.op, n, "out_for_delivery", depot="BJ02")
            self.scan(self.op, n, "delivery_failed", depot="BJ02", reason="nobody home")
        if then:
            self.scan(self.op, n, then, depot="BJ02")
        g = self.get(self.op, n).rec
        self.assertEqual((g["failed_attempts"], g["status"]), ("2", then or "delivery_failed"))
        return n

    def test_redirect_after_the_second_failure(self):
        n = self.failed_twice()
        self.redirect(n, 200, "address changed", requester_phone=SENDER_PHONE)
        g = self.get(self.op, n).rec
        self.assertEqual((g["status"], g["receiver_address"], g["redirects"]), ("delivery_failed", "9 New Street", "1"))
        ev = sub_list(g, "events")[-1]
        self.assertEqual((ev["event"], ev["requested_by"], ev["accepted_by"]), ("redirected", SENDER, "op1"))
        # still at most one address change
        self.redirect(n, 422, "address change refused: this waybill has had its 1 allowed change(s)",
                      requester_phone=SENDER_PHONE, address="10 Other Street")
        # out again to the new address, delivered there
        self.scan(self.op, n, "out_for_delivery", depot="BJ02")
        self.scan(self.op, n, "delivered", depot="BJ02", signer="Li Na", signer_is_consignee=True)

    def test_redirect_to_another_city_when_held(self):
        n = self.failed_twice("held")
        promised = self.get(self.op, n)["promised_at"]
        r = self.redirect(n, 200, "address changed", city="Tianjin", address="1 Harbour Road",
                          dest_depot="TJ01", id_type="resident_id", id_last4="123X")
        self.assertEqual((r["rerouted"], r["fee_fen"]), ("yes", "1000"))
        g = self.get(self.op, n).rec
        self.assertEqual((g["status"], g["dest_depot"], g["original_promised_at"]), ("held", "TJ01", promised))
        self.assertNotEqual(g["promised_at"], promised)

    def test_recall_after_the_second_failure_stops_the_clock(self):
        for then in ("held", None):
            n = self.failed_twice(then)
            r = self.op.cmd(line("WAYBILL", "RECALL", n, requester=SENDER, requester_phone=SENDER_PHONE,
                                 reason="receiver never home"))
            self.assertReply(r, 200, "recalled: the parcel returns to its sender")
            g = self.get(self.op, n).rec
            self.assertEqual((g["status"], g["recalled"]), ("returning", "yes"))
            self.assertIn("recalled_at", g)
            self.assertEqual(sub_list(g, "events")[-1]["event"], "recalled")

    def test_still_refused_out_for_delivery_lost_or_delivered(self):
        n = self.failed_twice()
        self.scan(self.op, n, "out_for_delivery", depot="BJ02")
        before = self.event_count(self.op, n)
        self.redirect(n, 409, "address change refused: the parcel is out for delivery", requester_phone=SENDER_PHONE)
        r = self.op.cmd(line("WAYBILL", "RECALL", n, requester=SENDER, requester_phone=SENDER_PHONE))
        self.assertReply(r, 409, "recall refused: the parcel is out for delivery")
        self.assertEqual(self.event_count(self.op, n), before)
        self.scan(self.op, n, "delivery_failed", depot="BJ02", reason="nobody home")
        self.scan(self.op, n, "lost", depot="BJ02")
        self.redirect(n, 409, "address change refused: the parcel is reported lost", requester_phone=SENDER_PHONE)
        self.scan(self.op, n, "found", depot="BJ02")
        self.scan(self.op, n, "out_for_delivery", depot="BJ02")
        self.scan(self.op, n, "delivered", depot="BJ02", signer="Li Na", signer_is_consignee=True)
        self.redirect(n, 409, "address change refused: the parcel is delivered", requester_phone=SENDER_PHONE)
        # a stranger is still refused after two failures
        n = self.failed_twice("held")
        self.redirect(n, 422, ONLY_SENDER, requester="Mallory", requester_phone="13111111111")


class Recall(DaemonTestCase):
    create_users = ("op1",)

    def setUp(self):
        super().setUp()
        self.op = self.conn("op1")

    def recall(self, number, expect, msg=None, **named):
        args = dict(requester=SENDER)
        args.update(named)
        r = self.op.cmd(line("WAYBILL", "RECALL", number, **{k: v for k, v in args.items() if v is not None}))
        self.assertReply(r, expect, msg)
        return r

    def test_recall_sets_returning_and_records_who(self):
        n = self.create(self.op)
        self.scan(self.op, n, "picked_up")
        self.scan(self.op, n, "departed")
        r = self.recall(n, 200, "recalled: the parcel returns to its sender", requester_phone=SENDER_PHONE,
                        reason="sent to the wrong customer")
        self.assertEqual(r.rec, {"number": n, "status": "returning"})
        g = self.get(self.op, n).rec
        self.assertEqual(g["status"], "returning")
        self.assertEqual(g["recalled"], "yes")
        self.assertEqual(g["event_count"], "4")
        ev = sub_list(g, "events")[-1]
        self.assertEqual(ev["event"], "recalled")
        self.assertEqual(ev["requested_by"], SENDER)
        self.assertEqual(ev["accepted_by"], "op1")
        self.assertEqual(ev["verified_by"], "sender_phone")
        self.assertEqual(ev["reason"], "sent to the wrong customer")
        self.assertEqual(ev["status_after"], "returning")
        # on its way back: no second recall, no address change
        self.recall(n, 409, "recall refused: the parcel is already on its way back", requester_phone=SENDER_PHONE)
        r = self.op.cmd(line("WAYBILL", "REDIRECT", n, address="x", city="Beijing", requester=SENDER,
                             requester_phone=SENDER_PHONE))
        self.assertReply(r, 409, "address change refused: the parcel is already on its way back")
        self.assertEqual(self.scan(self.op, n, "arrived", depot="SH01")["status"], "returning")
        self.assertEqual(self.scan(self.op, n, "returned", depot="SH01")["status"], "returned")
        self.recall(n, 409, "recall refused: the parcel is returned", requester_phone=SENDER_PHONE)

    def test_recall_by_id_check(self):
        n = self.create(self.op)
        self.recall(n, 200, id_type="hk_macau_permit", id_last4="A123")
        ev = sub_list(self.get(self.op, n).rec, "events")[-1]
        self.assertEqual((ev["event"], ev["id_type"], ev["id_last4"]), ("recalled", "hk_macau_permit", "A123"))

    def test_recall_refused(self):
        n = self.create(self.op)
        self.scan(self.op, n, "picked_up")
        self.recall(n, 422, ONLY_SENDER, requester="Mallory", requester_phone="13111111111")
        self.recall(n, 422, ONLY_SENDER, requester="Mallory", id_type="passport", id_last4="1234")
        self.scan(self.op, n, "departed")
        self.scan(self.op, n, "out_for_delivery", depot="BJ02")
        before = self.event_count(self.op, n)
        self.recall(n, 409, "recall refused: the parcel is out for delivery", requester_phone=SENDER_PHONE)
        self.assertEqual(self.event_count(self.op, n), before)
        self.assertEqual(self.get(self.op, n)["status"], "out_for_delivery")


if __name__ == "__main__":
    unittest.main()
