"""PROTOCOL.md's reply fields against the daemon's replies (issue 15).

Each command section of PROTOCOL.md ends with a paragraph
"Reply fields: `a`, `b`; sometimes `c`." (the convention is in section 8
there). The samples are the golden transcript's requests: the replies in
transcript/msgpack.txt are the daemon's own, byte for byte, as
test_transcript.py checks in the same suite, so reading them here needs no
second four-minute run of the script. For every command with a 2xx sample
holding data: every key replied is documented, and every field listed
before "sometimes" is in every reply (each row of a list)."""
import ast
import collections
import os
import re
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def command_names():
    text = open(os.path.join(REPO, "protocol", "commands.def")).read()
    return {(w, s or None) for w, s in re.findall(r'CMD\(\w+, "([A-Z]+)", (?:"([A-Z]+)"|NULL)', text)}


def documented_fields():
    """{command: (always, sometimes)} from the Reply fields paragraphs."""
    text = open(os.path.join(REPO, "protocol", "PROTOCOL.md")).read()
    out = {}
    heads = list(re.finditer(r"^### `([^`]+)`$", text, re.M))
    for h, nxt in zip(heads, heads[1:] + [None]):
        body = text[h.end():nxt.start() if nxt else len(text)]
        body = re.split(r"^## ", body, flags=re.M)[0]
        m = re.search(r"^Reply fields: (.*?)\.\n(\n|$)", body, re.M | re.S)
        if not m:
            continue
        always, _, sometimes = " ".join(m.group(1).split()).partition("; sometimes ")
        out[h.group(1)] = (re.findall(r"`([^`]+)`", always), re.findall(r"`([^`]+)`", sometimes))
    return out


def sample_rows():
    """{command: [keys of each record or row]} of the transcript's 2xx
    replies with data."""
    names = command_names()
    lines = open(os.path.join(HERE, "transcript", "msgpack.txt")).read().split("\n")
    out = collections.defaultdict(list)
    for i, ln in enumerate(lines):
        if not ln.startswith("> "):
            continue
        words = ln[2:].split()
        if len(words) > 1 and (words[0], words[1]) in names:
            command = words[0] + " " + words[1]
        elif (words[0], None) in names:
            command = words[0]
        else:
            continue
        shown = lines[i + 1]
        assert shown.startswith("< "), shown
        reply = ast.literal_eval(shown[2:].replace("<masked>", "None"))
        if not 200 <= reply["code"] < 300 or reply["data"] is None:
            continue
        data = reply["data"]
        for row in data if isinstance(data, list) else [data]:
            if isinstance(row, dict):
                out[command].append(list(row))
    return out


def matches(key, names):
    return any(key == n or (n.endswith("*") and key.startswith(n[:-1])) for n in names)


class ReplyFields(unittest.TestCase):
    def test_parsing_finds_the_commands(self):
        documented, samples = documented_fields(), sample_rows()
        self.assertGreaterEqual(len(samples), 80)
        self.assertGreaterEqual(len(documented), len(samples))
        self.assertEqual(documented["WHOAMI"], (["user", "role", "connection"], []))
        self.assertEqual(documented["HELP"][1], ["arguments"])

    def test_every_sampled_command_documents_its_reply(self):
        documented, samples = documented_fields(), sample_rows()
        missing = sorted(c for c in samples if c not in documented)
        self.assertEqual(missing, [], "PROTOCOL.md has no 'Reply fields:' for these commands")

    def test_documented_fields_match_the_replies(self):
        documented, samples = documented_fields(), sample_rows()
        problems = []
        for command, rows in sorted(samples.items()):
            always, sometimes = documented.get(command, ([], []))
            seen = {k for row in rows for k in row}
            for k in sorted(seen):
                if not matches(k, always + sometimes):
                    problems.append("%s: replies `%s`, not documented" % (command, k))
            for n in always:
                absent = [row for row in rows if not any(matches(k, [n]) for k in row)]
                if absent:
                    problems.append("%s: `%s` documented in every reply, missing from %d of %d"
                                    % (command, n, len(absent), len(rows)))
        self.maxDiff = None
        self.assertEqual(problems, [])

    def test_the_check_can_fail(self):
        """A field a reply lacks, or one it has and the text does not name,
        is found: the comparison is not vacuous."""
        rows = sample_rows()["WHOAMI"]
        self.assertTrue(all(set(r) == {"user", "role", "connection"} for r in rows))
        self.assertFalse(matches("connection", ["user", "role"]))
        self.assertTrue(matches("cmd.PING", ["cmd.*"]))


if __name__ == "__main__":
    unittest.main()
