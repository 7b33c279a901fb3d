"""Session commands, authentication, users and roles."""
import os
import re
import socket
import unittest

from harness import (ADMIN_PASSWORD, REPO, DaemonTestCase, line, next_number)


def table_commands():
    """(WORD, SUB or None, role) for every CMD line of commands.def."""
    path = os.path.join(REPO, "protocol", "commands.def")
    with open(path) as f:
        text = f.read()
    out = []
    for m in re.finditer(r'^CMD\(\s*\w+\s*,\s*"(\w+)"\s*,\s*(NULL|"(\w+)")\s*,\s*ROLE_(\w+)', text, re.M):
        out.append((m.group(1), m.group(3), m.group(4).lower()))
    return out


class FirstConnection(DaemonTestCase):
    """What a brand-new, unauthenticated connection can do."""
    create_users = False

    def test_ping(self):
        c = self.text()
        r = self.assertReply(c.cmd("PING"), 200, "PONG")
        self.assertEqual(r.lines, [])
        # command words are case-insensitive
        self.assertReply(c.cmd("ping"), 200, "PONG")
        self.assertReply(c.cmd("PiNg"), 200, "PONG")

    def test_help_lists_every_command_of_the_table(self):
        # msgpack (and the client's --json) get the structure
        m = self.mp()
        r = m.call("HELP")
        table = table_commands()
        self.assertEqual(r["msg"], "%d commands" % len(table))
        got = [rec["command"] for rec in r["data"]]
        want = ["%s %s" % (w, s) if s else w for w, s, _ in table]
        self.assertEqual(got, want)
        roles = {rec["command"]: rec["role"] for rec in r["data"]}
        for w, s, role in table:
            self.assertEqual(roles["%s %s" % (w, s) if s else w], role)
        for rec in r["data"]:
            self.assertIn(rec["kind"], ("read", "write"))
            self.assertTrue(rec["help"])
            self.assertIn("args", rec)
            self.assertNotIn("arguments", rec)
        # a terminal gets one line a command: name, role, arguments in
        # short, what it does
        t = self.assertReply(self.text().cmd("HELP"), 200, "%d commands" % len(table))
        self.assertEqual(len(t.lines), len(table))
        by_name = {rec["command"]: rec for rec in r["data"]}
        width = max(len(n) for n in want)
        for ln, name in zip(t.lines, want):
            rec = by_name[name]
            self.assertEqual(ln[:width + 2], name.ljust(width + 2), ln)
            self.assertEqual(ln[width + 2:].split()[0], rec["role"], ln)
            self.assertTrue(ln.endswith("- " + rec["help"]), ln)
        line_of = dict(zip(want, t.lines))
        # positionals as <name>, required named as name=, optional as [name=]
        self.assertIn("  <number> [events_limit=] [events_before=]  - ", line_of["WAYBILL GET"])
        self.assertIn(" channel= category= [waybill=] customer_name= ", line_of["COMPLAINT OPEN"])
        self.assertIn(" [command] [sub]  - ", line_of["HELP"])

    def test_help_waybill(self):
        m = self.mp()
        want = ["WAYBILL %s" % s for w, s, _ in table_commands() if w == "WAYBILL"]
        r = m.call("HELP", "WAYBILL")
        self.assertEqual((r["code"], r["msg"]), (200, "%d commands" % len(want)))
        cmds = [rec["command"] for rec in r["data"]]
        self.assertEqual(cmds, want)
        for name in ("WAYBILL CREATE", "WAYBILL GET", "WAYBILL FIND", "WAYBILL REDIRECT", "WAYBILL RECALL"):
            self.assertIn(name, cmds)
        create = r["data"][cmds.index("WAYBILL CREATE")]
        self.assertEqual(create["kind"], "write")
        self.assertEqual(create["role"], "operator")
        args = create["arguments"]
        self.assertEqual(args[0], {"name": "number", "type": "waybill", "required": True, "positional": True})
        # every write documents req= (idempotency token)
        names = [a["name"] for a in args]
        self.assertIn("req", names)
        self.assertIn("sender_phone", names)
        # enum values are listed
        self.assertEqual(args[names.index("packaging")]["values"],
                         ["original_factory", "carrier", "sender_own", "bare"])
        get = r["data"][cmds.index("WAYBILL GET")]
        self.assertEqual(get["kind"], "read")
        self.assertNotIn("req", [a["name"] for a in get["arguments"]])
        # over text: each command's table, one after the other
        t = self.assertReply(self.text().cmd("HELP WAYBILL"), 200, "%d commands" % len(want))
        heads = [ln.split("  (")[0] for ln in t.lines if ln and not ln.startswith(" ")]
        self.assertEqual(heads, want)

    def test_help_one_command_is_a_short_table(self):
        c = self.text()
        r = self.assertReply(c.cmd("help complaint open"), 200, "1 command")
        spec = self.mp().call("HELP", "COMPLAINT", "OPEN")["data"][0]
        self.assertEqual(r.lines[0], "COMPLAINT OPEN  (write, role operator): " + spec["help"])
        self.assertEqual(r.lines[1].split(), ["argument", "type", "required", "given", "values"])
        rows = [ln.split() for ln in r.lines[2:]]
        self.assertEqual([row[0] for row in rows], [a["name"] for a in spec["arguments"]])
        for row, a in zip(rows, spec["arguments"]):
            self.assertEqual(row[1], a["type"], row)
            self.assertEqual(row[2], "yes" if a["required"] else "no", row)
            self.assertEqual(row[3], "position" if a["positional"] else "name=value", row)
            self.assertEqual(row[4:], ["|".join(a["values"])] if "values" in a else [], row)
        self.assertIn(["channel", "enum", "yes", "name=value",
                       "phone|online|walk_in|regulator|consumer_association|market_regulator|media"], rows)
        self.assertIn(["req", "word", "no", "name=value"], rows)
        r = self.assertReply(c.cmd("HELP WAYBILL GET"), 200, "1 command")
        self.assertEqual(r.lines[2].split(), ["number", "waybill", "yes", "position"])
        self.assertReply(c.cmd("HELP FROB"), 404, "no command FROB")
        self.assertReply(c.cmd("HELP WAYBILL FROB"), 404, "no command WAYBILL FROB")

    def test_quit_closes_after_reply(self):
        c = self.text()
        r = self.assertReply(c.cmd("QUIT"), 200, "bye")
        self.assertEqual(r.lines, [])
        self.assertTrue(c.at_eof(5), "the connection stays open after QUIT")
        self.assertEqual(c.tail, b"")

    def test_quit_discards_later_pipelined_requests(self):
        c = self.text()
        c.send("PING\r\nQUIT\r\nPING\r\n")
        self.assertReply(c.read_reply(), 200, "PONG")
        self.assertReply(c.read_reply(), 200, "bye")
        self.assertTrue(c.at_eof(5))
        self.assertEqual(c.tail, b"")

    def test_whoami_and_clock_get_need_no_login(self):
        c = self.text()
        r = self.assertReply(c.cmd("WHOAMI"), 200, "ok")
        self.assertEqual(r["role"], "none")
        self.assertEqual(r["user"], "")
        r = self.assertReply(c.cmd("CLOCK GET"), 200)
        self.assertEqual(r["timezone"], "Asia/Shanghai")
        self.assertRegex(r["now"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")

    def test_401_before_auth(self):
        c = self.text()
        for req in ["WAYBILL GET 123456", "STATS", "USER LIST", "QUERY LIST",
                    "SCAN 123456 picked_up depot=SH01", "CLOCK SET 2026-01-01T00:00:00+08:00",
                    "BACKUP", "USER PASSWD admin whatever12"]:
            self.assertReply(c.cmd(req), 401, "log in first: AUTH user password")
        # the connection still works
        self.assertReply(c.cmd("PING"), 200, "PONG")

    def test_401_comes_before_any_argument_check(self):
        """PROTOCOL.md section 7: before AUTH a command that needs a role is
        401 whatever its arguments (missing, unknown or of the wrong type), so
        nothing about a command's arguments is told to a stranger."""
        c = self.text()
        for req in ["WAYBILL GET", "WAYBILL GET not-a-number", "SCAN", "USER ADD x",
                    "USER DEL a b c d", "STATS extra", "CLOCK SET yesterday",
                    "WAYBILL CREATE 123456 bogus=1"]:
            self.assertReply(c.cmd(req), 401, "log in first: AUTH user password")
        m = self.mp()
        self.assertReply(m.call("WAYBILL", "GET", 12345, {"nope": 1}), 401,
                         "log in first: AUTH user password")
        # an unknown command is still 400: it needs no role
        self.assertReply(c.cmd("FROBNICATE"), 400)

    def test_401_before_arguments_for_every_command(self):
        """Every command of the table that needs a role, with no argument,
        a wrong one and an unknown one, answers 401 before AUTH."""
        m = self.mp()
        commands = m.call("HELP")["data"]
        guarded = [c["command"].split() for c in commands if c["role"] != "none"]
        self.assertGreater(len(guarded), 80)
        for words in guarded:
            for extra in ([], ["x" * 30, "not-a-number"], [{"bogus": 1, "limit": "many"}]):
                r = m.call(*(words + extra))
                self.assertEqual((r["code"], r["msg"]), (401, "log in first: AUTH user password"),
                                 (words, extra))

    def test_blank_lines_and_crlf(self):
        c = self.text()
        c.send_raw(b"\r\n\n   \nPING\nPING\r\n")
        self.assertReply(c.read_reply(), 200, "PONG")
        self.assertReply(c.read_reply(), 200, "PONG")

    def test_half_close_still_answers_pipelined_requests(self):
        """A script that sends its requests and shuts down its sending side
        (printf ... | nc -N) gets every reply before the daemon closes."""
        s = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(("AUTH admin %s\r\nWHOAMI\r\nPING\r\n" % ADMIN_PASSWORD).encode())
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        self.assertTrue(data.startswith(b"200 welcome admin\r\n"), data)
        self.assertIn(b"role: admin\r\n", data)
        self.assertTrue(data.endswith(b"200 PONG\r\n.\r\n"), data)


class Auth(DaemonTestCase):
    create_users = ("op1",)

    def test_403_comes_before_any_argument_check(self):
        op = self.text("op1")
        self.assertReply(op.cmd("USER DEL"), 403, "USER DEL needs the admin role")
        self.assertReply(op.cmd("STATS bogus=1"), 403, "STATS needs the admin role")

    def test_auth_good(self):
        c = self.text()
        r = self.assertReply(c.cmd(line("AUTH", "admin", ADMIN_PASSWORD)), 200, "welcome admin")
        self.assertEqual(r.rec, {"user": "admin", "role": "admin"})
        r = self.assertReply(c.cmd("WHOAMI"), 200)
        self.assertEqual(r["user"], "admin")
        self.assertEqual(r["role"], "admin")

    def test_auth_bad_is_the_same_for_unknown_user_and_wrong_password(self):
        c = self.text()
        a = self.assertReply(c.cmd(line("AUTH", "admin", "not-the-password")), 401)
        b = self.assertReply(c.cmd(line("AUTH", "nosuchuser", "not-the-password")), 401)
        self.assertEqual(a.msg, "wrong user or password")
        self.assertEqual(a.status_line, b.status_line)
        # still not logged in
        self.assertReply(c.cmd("STATS"), 401)
        self.assertEqual(c.cmd("WHOAMI")["role"], "none")

    def test_auth_argument_errors(self):
        c = self.text()
        self.assertReply(c.cmd("AUTH"), 400, "missing arguments 'user', 'password'")
        self.assertReply(c.cmd("AUTH admin"), 400, "missing argument 'password'")
        self.assertReply(c.cmd('AUTH admin ""'), 400, "argument 'password' must not be empty")
        self.assertReply(c.cmd("AUTH admin a b"), 400, "too many arguments for AUTH (try HELP AUTH)")
        self.assertReply(c.cmd(line("AUTH", "ad min", "x")), 400,
                         "argument 'user' must be a word of letters, digits, _ - . (at most 64)")

    def test_pipelined_auth_applies_to_the_next_requests(self):
        """AUTH runs off the loop; requests pipelined behind it wait for it."""
        c = self.text()
        c.send("AUTH op1 op1-password\r\nWHOAMI\r\nQUERY LIST limit=1\r\nAUTH admin bad-password\r\nWHOAMI\r\n")
        self.assertReply(c.read_reply(), 200, "welcome op1")
        self.assertEqual(c.read_reply()["user"], "op1")
        self.assertReply(c.read_reply(), 200)
        self.assertReply(c.read_reply(), 401, "wrong user or password")
        # a failed AUTH leaves the session as it was
        r = c.read_reply()
        self.assertEqual((r["user"], r["role"]), ("op1", "operator"))

    def test_password_is_never_logged(self):
        c = self.text()
        c.cmd(line("AUTH", "admin", "wrong-secret-xyz"))
        c.auth("admin", ADMIN_PASSWORD)
        c.cmd(line("USER", "ADD", "pwlog", "operator", "pwlog-secret-123"))
        c.cmd(line("USER", "PASSWD", "pwlog", "pwlog-secret-456"))
        self.assertReply(c.cmd("PING"), 200)
        log = self.daemon.log_text()
        for secret in (ADMIN_PASSWORD, "wrong-secret-xyz", "pwlog-secret-123", "pwlog-secret-456"):
            self.assertNotIn(secret, log)


class Users(DaemonTestCase):

    def test_user_add_list_del(self):
        a = self.text("admin")
        r = self.assertReply(a.cmd(line("USER", "ADD", "carol", "adjuster", "carol-pass-1",
                                        full_name="Carol Chen", depot="HZ03")), 201, "user carol created")
        self.assertEqual(r.rec, {"name": "carol", "role": "adjuster"})
        self.assertReply(a.cmd(line("USER", "ADD", "carol", "operator", "carol-pass-2")), 409, "user 'carol' exists")
        self.assertReply(a.cmd(line("USER", "ADD", "shorty", "operator", "short")), 422,
                         "password must be at least 8 bytes")
        self.assertReply(a.cmd(line("USER", "ADD", "bad", "boss", "bad-pass-12")), 400,
                         "argument 'role' must be one of: operator, adjuster, supervisor, manager, admin")
        r = self.assertReply(a.cmd("USER LIST"), 200)
        users = {rec["name"]: rec for rec in r.records}
        self.assertEqual(r.msg, "%d users" % len(users))
        self.assertEqual(users["carol"], {"name": "carol", "role": "adjuster", "full_name": "Carol Chen",
                                          "depot": "HZ03"})
        self.assertEqual(users["admin"]["role"], "admin")
        self.assertNotIn("shorty", users)
        for rec in r.records:
            self.assertNotIn("hash", rec)
            self.assertNotIn("password", rec)
        # carol can log in
        with self.daemon.text() as c:
            r = self.assertReply(c.cmd(line("AUTH", "carol", "carol-pass-1")), 200)
            self.assertEqual(r["role"], "adjuster")
        self.assertReply(a.cmd("USER DEL carol"), 200, "user carol deleted")
        self.assertReply(a.cmd("USER DEL carol"), 404, "no user 'carol'")
        self.assertReply(a.cmd("USER DEL admin"), 409, "you cannot delete yourself")
        with self.daemon.text() as c:
            self.assertReply(c.cmd(line("AUTH", "carol", "carol-pass-1")), 401, "wrong user or password")
        r = a.cmd("USER LIST")
        self.assertNotIn("carol", [rec["name"] for rec in r.records])

    def test_deleting_a_user_ends_their_open_sessions(self):
        a = self.text("admin")
        self.assertReply(a.cmd(line("USER", "ADD", "erin", "operator", "erin-pass-1")), 201)
        e = self.text()
        e.auth("erin", "erin-pass-1")
        self.assertReply(e.cmd("QUERY LIST"), 200)
        self.assertReply(a.cmd("USER DEL erin"), 200, "user erin deleted")
        # the open connection of the deleted user is logged out
        self.assertReply(e.cmd("QUERY LIST"), 401, "log in first: AUTH user password")
        r = self.assertReply(e.cmd("WHOAMI"), 200)
        self.assertEqual(r["role"], "none")

    def test_passwd(self):
        a = self.text("admin")
        self.assertReply(a.cmd(line("USER", "ADD", "dave", "operator", "dave-pass-1")), 201)
        d = self.text()
        d.auth("dave", "dave-pass-1")
        # an operator changes their own password, not another's: refused
        # at admission, before its password is hashed on the thread logins
        # share, and never handed to the writer
        jobs = int(a.cmd("STATS")["writer_jobs"])
        self.assertReply(d.cmd(line("USER", "PASSWD", "op1", "hijack-pass-1")), 403,
                         "only an admin changes another user's password")
        self.assertEqual(int(a.cmd("STATS")["writer_jobs"]), jobs)
        self.assertReply(d.cmd(line("USER", "PASSWD", "dave", "short")), 422, "password must be at least 8 bytes")
        self.assertReply(d.cmd(line("USER", "PASSWD", "dave", "dave-pass-2")), 200, "password changed for dave")
        with self.daemon.text() as c:
            self.assertReply(c.cmd(line("AUTH", "dave", "dave-pass-1")), 401)
            self.assertReply(c.cmd(line("AUTH", "dave", "dave-pass-2")), 200)
        # the admin changes anyone's
        self.assertReply(a.cmd(line("USER", "PASSWD", "dave", "dave-pass-3")), 200)
        self.assertReply(a.cmd(line("USER", "PASSWD", "nobody", "nobody-pass-1")), 404, "no user 'nobody'")
        with self.daemon.text() as c:
            self.assertReply(c.cmd(line("AUTH", "dave", "dave-pass-3")), 200)
        # op1 still has its own password
        with self.daemon.text() as c:
            c.auth("op1", "op1-password")

    def test_roles(self):
        op = self.text("op1")
        self.assertReply(op.cmd(line("USER", "ADD", "eve", "admin", "eve-pass-12")), 403,
                         "USER ADD needs the admin role")
        self.assertReply(op.cmd("STATS"), 403, "STATS needs the admin role")
        self.assertReply(op.cmd("USER LIST"), 403, "USER LIST needs the admin role")
        self.assertReply(op.cmd("USER DEL op2"), 403, "USER DEL needs the admin role")
        self.assertReply(op.cmd("BACKUP"), 403, "BACKUP needs the admin role")
        self.assertReply(op.cmd("CLOCK SET 2026-01-01T00:00:00+08:00"), 403, "CLOCK SET needs the admin role")
        approve = line("QUERY", "APPROVE", phone="13800138000", name="Zhang Wei", id_type="resident_id",
                       id_last4="123X", for_user="op1")
        self.assertReply(op.cmd(approve), 403, "QUERY APPROVE needs the supervisor role")
        adj = self.text("adj1")
        self.assertReply(adj.cmd(approve), 403, "QUERY APPROVE needs the supervisor role")
        self.assertReply(adj.cmd("STATS"), 403)
        sup = self.text("sup1")
        self.assertReply(sup.cmd(approve), 201)
        self.assertReply(sup.cmd("STATS"), 403)
        # operator-level commands work for the operator
        self.assertReply(op.cmd(line("WAYBILL", "GET", next_number())), 404)
        self.assertReply(op.cmd("QUERY LIST"), 200)
        # nothing was created by the refused USER ADD
        r = self.text("admin").cmd("USER LIST")
        self.assertNotIn("eve", [rec["name"] for rec in r.records])


if __name__ == "__main__":
    unittest.main()
