"""STATS: every documented field, counters that move, every option shown."""
import re
import time
import unittest

from harness import DaemonTestCase, TextClient

# every option of daemon/config.c as of this writing; STATS shows each as
# config.NAME (admin_password_file excepted: it names a secret's file)
OPTIONS = ["listen", "data_dir", "timezone", "log_syslog", "enable_test_clock", "max_line_bytes",
           "max_frame_bytes", "max_connections", "idle_timeout_secs", "max_output_bytes", "max_group_jobs",
           "map_size_mb", "list_limit_max", "same_city_complete_delay_days", "intercity_complete_delay_days",
           "external_query_due_secs", "find_approval_valid_secs", "redirect_fee_same_city_fen",
           "redirect_fee_other_city_fen", "recall_fee_fen", "max_redirects_per_waybill", "query_retention_days"]


class Stats(DaemonTestCase):
    create_users = ("op1",)
    daemon_args = ("--max-line-bytes", 2048, "--redirect-fee-other-city-fen", 1234, "--max-group-jobs", 64)

    def test_fields_present(self):
        admin = self.conn("admin")
        self.conn("op1").cmd("FROB")  # an error, so errors.400 exists
        s = self.stats(admin)
        for k in ("uptime_secs", "connections_current", "connections_total", "connections_rejected",
                  "heap_trims", "requests_text", "requests_msgpack", "writer_groups", "writer_jobs", "writer_max_group", "writer_reruns",
                  "writer_wait_usec", "writer_apply_usec", "writer_commit_usec", "writer_handback_usec",
                  "store_used_bytes", "store_map_bytes", "store_map_grows", "store_map_grows_ahead", "waybills", "events", "queries",
                  "commit_seq", "wal_appends", "wal_bytes", "wal_checkpoints", "wal_checkpoint_seq",
                  "wal_checkpoint_usec", "wal_replayed"):
            self.assertIn(k, s)
            self.assertRegex(s[k], r"^-?\d+$", k)
        self.assertGreaterEqual(int(s["uptime_secs"]), 0)
        self.assertRegex(s["now"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
        self.assertRegex(s["writer_avg_group"], r"^\d+\.\d\d$")
        self.assertEqual(s["wal_error"], "")
        # the log is on by default: every group that changed something was logged
        self.assertGreater(int(s["commit_seq"]), 0)
        self.assertGreaterEqual(int(s["wal_appends"]), 1)
        self.assertIn("cmd.STATS", s)
        self.assertIn("cmd.AUTH", s)
        self.assertIn("cmd.USER_ADD", s)
        self.assertGreaterEqual(int(s["errors.400"]), 1)
        self.assertGreater(int(s["store_used_bytes"]), 0)
        self.assertLessEqual(int(s["store_used_bytes"]), int(s["store_map_bytes"]))
        self.assertEqual(s["store_map_bytes"], str(1024 << 20))
        for o in OPTIONS:
            self.assertIn("config." + o, s)
        self.assertNotIn("config.admin_password_file", s)
        self.assertEqual(s["config.listen"], "127.0.0.1:%d" % self.daemon.port)
        self.assertEqual(s["config.data_dir"], self.daemon.data_dir)
        self.assertEqual(s["config.max_line_bytes"], "2048")
        self.assertEqual(s["config.max_frame_bytes"], "65536")
        self.assertEqual(s["config.redirect_fee_other_city_fen"], "1234")
        self.assertEqual(s["config.max_group_jobs"], "64")
        self.assertEqual(s["config.enable_test_clock"], "yes")
        self.assertEqual(s["config.log_syslog"], "no")
        self.assertEqual(s["config.timezone"], "Asia/Shanghai")
        for k, v in s.items():
            self.assertNotIn("password", v.lower(), k)

    def test_counters_move(self):
        admin = self.conn("admin")
        op = self.conn("op1")
        a = self.stats(admin)
        for _ in range(3):
            op.cmd("PING")
        op.cmd("WAYBILL GET 000000001")
        n = self.create(op)
        m = self.mp()
        m.call("PING")
        extra = [TextClient(self.daemon.port) for _ in range(2)]
        for c in extra:
            c.cmd("PING")
        b = self.stats(admin)
        self.assertEqual(int(b["cmd.PING"]) - int(a.get("cmd.PING", 0)), 3 + 1 + 2)
        self.assertEqual(int(b["cmd.WAYBILL_CREATE"]) - int(a.get("cmd.WAYBILL_CREATE", 0)), 1)
        self.assertEqual(int(b["errors.404"]) - int(a.get("errors.404", 0)), 1)
        self.assertEqual(int(b["requests_msgpack"]) - int(a["requests_msgpack"]), 1)
        self.assertGreaterEqual(int(b["requests_text"]) - int(a["requests_text"]), 8)
        self.assertEqual(int(b["waybills"]) - int(a["waybills"]), 1)
        self.assertEqual(int(b["events"]) - int(a["events"]), 1)
        self.assertEqual(int(b["writer_jobs"]) - int(a["writer_jobs"]), 1)
        self.assertEqual(int(b["writer_groups"]) - int(a["writer_groups"]), 1)
        # the create's group: its job ran and its commit synced (both take
        # microseconds at least); the wait and hand-back only grow
        for k in ("writer_apply_usec", "writer_commit_usec"):
            self.assertGreater(int(b[k]), int(a[k]), k)
        for k in ("writer_wait_usec", "writer_handback_usec"):
            self.assertGreaterEqual(int(b[k]), int(a[k]), k)
        self.assertEqual(int(b["connections_current"]) - int(a["connections_current"]), 3)
        self.assertEqual(int(b["connections_total"]) - int(a["connections_total"]), 3)
        jobs, groups = int(b["writer_jobs"]), int(b["writer_groups"])
        self.assertEqual(b["writer_avg_group"], "%d.%02d" % (jobs // groups, (jobs * 100 // groups) % 100))
        for c in extra:
            c.close()
        m.close()
        deadline = time.time() + 5
        while int(self.stats(admin)["connections_current"]) != int(a["connections_current"]):
            self.assertLess(time.time() - deadline, 0, "closed connections still counted")
            time.sleep(0.05)

    def test_stats_in_msgpack(self):
        m = self.mp("admin")
        r = m.call("STATS")
        self.assertEqual(r["code"], 200)
        d = r["data"]
        self.assertIsInstance(d["uptime_secs"], int)
        self.assertIsInstance(d["waybills"], int)
        self.assertIsInstance(d["writer_avg_group"], str)
        self.assertEqual(d["config.max_line_bytes"], "2048")


if __name__ == "__main__":
    unittest.main()
