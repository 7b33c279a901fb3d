"""The parceldesk client against a real daemon: --json one-shot, exit
statuses, pipe mode. Skipped while the client does not support --json."""
import json
import os
import subprocess
import unittest

from harness import ADMIN_PASSWORD, DaemonTestCase, line, settings


def client_supports_json():
    path = settings.client
    if not os.access(path, os.X_OK):
        return False, "no client at %s" % path
    try:
        out = subprocess.run([path, "--help"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, "client --help failed: %s" % e
    if b"--json" not in out.stdout + out.stderr:
        return False, "client does not support --json yet"
    return True, ""


def json_lines(text):
    """Every JSON value in the output, one a line (tolerating several values
    on a line)."""
    dec = json.JSONDecoder()
    out = []
    for ln in text.splitlines():
        ln = ln.strip()
        i = 0
        while i < len(ln):
            v, j = dec.raw_decode(ln, i)
            out.append(v)
            i = j
            while i < len(ln) and ln[i].isspace():
                i += 1
    return out


class Client(DaemonTestCase):
    create_users = ("op1",)

    @classmethod
    def setUpClass(cls):
        ok, why = client_supports_json()
        if not ok:
            raise unittest.SkipTest(why)
        super().setUpClass()

    def run_client(self, *args, stdin=None, user="admin", password=ADMIN_PASSWORD, timeout=20):
        argv = [settings.client, "-p", str(self.daemon.port)]
        if user:
            argv += ["-u", user, "-P", password]
        argv += list(args)
        env = dict(os.environ)
        env.pop("PARCELDESK_USER", None)
        env.pop("PARCELDESK_PASSWORD", None)
        p = subprocess.run(argv, input=stdin.encode() if stdin is not None else None,
                           stdin=None if stdin is not None else subprocess.DEVNULL,
                           capture_output=True, timeout=timeout, env=env)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    def test_json_waybill_get(self):
        op = self.conn("op1")
        n = self.create(op, goods="茶叶 tea")
        self.scan(op, n, "picked_up")
        rc, out, err = self.run_client("--json", "waybill", "get", n)
        self.assertEqual(rc, 0, err)
        values = json_lines(out)
        self.assertEqual(len(values), 1, out)
        r = values[0]
        self.assertEqual(r["code"], 200)
        self.assertEqual(r["msg"], "waybill %s: picked_up" % n)
        d = r["data"]
        self.assertEqual(d["number"], n)
        self.assertEqual(d["status"], "picked_up")
        self.assertEqual(d["goods"], "茶叶 tea")
        self.assertEqual(d["event_count"], 2)
        self.assertIs(d["late"], False)
        self.assertEqual([e["event"] for e in d["events"]], ["created", "picked_up"])

    def test_help_raw_is_what_telnet_shows_json_the_structure(self):
        for words in (("HELP",), ("HELP", "COMPLAINT", "OPEN")):
            rc, out, err = self.run_client("--raw", *words, user=None)
            self.assertEqual(rc, 0, err)
            sent = self.text().cmd(" ".join(words))
            self.assertEqual(out.replace("\r\n", "\n").split("\n"),
                             [sent.status_line] + sent.lines + [".", ""])
        rc, out, err = self.run_client("--json", "HELP", "COMPLAINT", "OPEN", user=None)
        self.assertEqual(rc, 0, err)
        spec = json_lines(out)[0]["data"][0]
        self.assertEqual(spec["arguments"][0]["name"], "channel")

    def test_exit_status(self):
        rc, out, err = self.run_client("--json", "waybill", "get", "999999999")
        self.assertEqual(rc, 1, out + err)
        r = json_lines(out)[0]
        self.assertEqual((r["code"], r["msg"]), (404, "no waybill 999999999"))
        rc, out, err = self.run_client("--json", "ping", user=None)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json_lines(out)[0]["msg"], "PONG")
        # a wrong password: the login is refused
        rc, out, err = self.run_client("--json", "ping", password="wrong-password")
        self.assertEqual(rc, 1, out + err)

    def test_leading_zeros_survive_the_client(self):
        op = self.conn("op1")
        self.create(op, number="0000123456")
        rc, out, err = self.run_client("--json", "waybill", "get", "0000123456")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json_lines(out)[0]["data"]["number"], "0000123456")

    def test_pipe_mode(self):
        op = self.conn("op1")
        n = self.create(op)
        script = "\n".join([
            "ping",
            "# a comment",
            "",
            line("WAYBILL", "GET", n),
            line("SCAN", n, "picked_up", depot="SH01"),
            line("WAYBILL", "GET", n),
            "waybill get 999999999",
            "whoami",
        ])  # the last line has no newline: it still counts
        rc, out, err = self.run_client("--json", stdin=script)
        values = json_lines(out)
        self.assertEqual([v["code"] for v in values], [200, 200, 201, 200, 404, 200], out + err)
        self.assertEqual(values[1]["data"]["status"], "created")
        self.assertEqual(values[3]["data"]["status"], "picked_up")
        self.assertEqual(values[5]["data"]["user"], "admin")
        self.assertEqual(rc, 1)    # one reply was an error
        # all successes: exit 0
        rc, out, err = self.run_client("--json", stdin="ping\nping\n")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(json_lines(out)), 2)

    def test_pipe_mode_many_lines(self):
        script = "".join("ping\n" if i % 2 else "whoami\n" for i in range(600))
        rc, out, err = self.run_client("--json", stdin=script, timeout=60)
        self.assertEqual(rc, 0, err)
        values = json_lines(out)
        self.assertEqual(len(values), 600)
        self.assertTrue(all(v["code"] == 200 for v in values))
        self.assertEqual([v["msg"] for v in values[:4]], ["ok", "PONG", "ok", "PONG"])


if __name__ == "__main__":
    unittest.main()
