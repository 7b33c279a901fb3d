#!/bin/sh
# soak.sh — a long mixed load against a real parceldeskd (not part of CI).
#
#   sh contrib/soak.sh [-m MINUTES] [-d DAEMON] [-k]
#
# Starts DAEMON (default build/parceldeskd; `make` first) on a free loopback
# port with a fresh data directory (checked to be the daemon's own listening
# socket; another port after a lost race, 3 tries), then for MINUTES (default 10) runs at
# once: writers (WAYBILL CREATE and SCANs, pipelined), readers (WAYBILL GET,
# QUERY LIST), idle connections, and misbehaving clients (one that pipelines
# HELP and never reads, one that trickles a byte a second, one that sends
# garbage and oversized lines, one that floods wrong passwords from
# 127.0.0.3, one that leaves half msgpack frames), plus a watchdog that
# PINGs ten times a second on its own connection. Every minute it prints
# the daemon's resident memory (anonymous, and the mapped store's pages), the watchdog's PING latency percentiles, the requests
# done and the errors seen by the well-behaved clients (a reply other than
# the expected one, or a lost connection). -k keeps the work directory.
# Run it niced on a shared machine: nice -n 10 sh contrib/soak.sh
set -eu
cd "$(dirname "$0")/.."
minutes=10
daemon=build/parceldeskd
keep=0
while getopts m:d:k o; do
	case $o in
	m) minutes=$OPTARG ;;
	d) daemon=$OPTARG ;;
	k) keep=1 ;;
	*) echo "usage: sh contrib/soak.sh [-m MINUTES] [-d DAEMON] [-k]" >&2; exit 2 ;;
	esac
done
[ -x "$daemon" ] || { echo "soak: no $daemon (run make)" >&2; exit 2; }
work=$(mktemp -d /tmp/pd-soak-XXXXXX)
pid=
cleanup() {
	[ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null || true
	[ -z "$pid" ] || wait "$pid" 2>/dev/null || true
	if [ $keep = 1 ]; then echo "soak: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT INT TERM

# Whether process $1 itself listens on TCP port $2: a listening socket of
# that port (/proc/net/tcp, tcp6: state 0A) among its descriptors. The port
# is picked free, but another process may take it before the daemon binds
# it: the daemon then exits, and until it has, the port answers for the
# other one.
listens() {
	for inode in $(awk -v p="$(printf ':%04X' "$2")" \
		'substr($2, length($2) - 4) == p && $4 == "0A" {print $10}' /proc/net/tcp /proc/net/tcp6 2>/dev/null); do
		for fd in /proc/"$1"/fd/*; do
			[ "$(readlink "$fd" 2>/dev/null)" = "socket:[$inode]" ] && return 0
		done
	done
	return 1
}

# Started once the daemon itself listens on its port (it opens the store
# first: at most 60 s); one that exited or did not is stopped by pid and
# another free port tried, 3 in all.
attempt=1
while :; do
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	PARCELDESK_ADMIN_PASSWORD=soak-admin-pw "$daemon" --listen "127.0.0.1:$port" \
		--data-dir "$work/data" >"$work/daemon.log" 2>&1 &
	pid=$!
	i=0
	while [ $i -lt 600 ] && kill -0 "$pid" 2>/dev/null && ! listens "$pid" "$port"; do
		sleep 0.1
		i=$((i + 1))
	done
	listens "$pid" "$port" && break
	echo "soak: the daemon did not listen on 127.0.0.1:$port (attempt $attempt):" >&2
	tail -n 3 "$work/daemon.log" >&2
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
	[ $attempt -lt 3 ] || exit 1
	attempt=$((attempt + 1))
done
echo "soak: daemon pid $pid on 127.0.0.1:$port, data in $work/data, $minutes min"
/usr/bin/python3 - "$port" "$pid" "$minutes" <<'EOF'
import random, socket, sys, threading, time

port, pid, minutes = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
end = time.time() + minutes * 60
lock = threading.Lock()
counts = {"requests": 0, "errors": 0}
pings = []
numbers = []


samples = []


def note(key, n=1, what=None):
    with lock:
        counts[key] += n
        if what and len(samples) < 5:
            samples.append(what)


def rss_kb():
    """(RssAnon, RssFile) in kB: the daemon's own memory, and the pages of
    the mapped store it has touched (they grow with the data)."""
    got = {}
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith(("RssAnon:", "RssFile:")):
                got[ln.split(":")[0]] = int(ln.split()[1])
    return got.get("RssAnon", 0), got.get("RssFile", 0)


class Conn:
    def __init__(self, source="127.0.0.1", timeout=30):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.bind((source, 0))
        self.s.connect(("127.0.0.1", port))
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("closed")
            self.buf += chunk
        ln, self.buf = self.buf.split(b"\n", 1)
        return ln.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        status = self.line()
        code = int(status[:3])
        if 200 <= code < 300:
            while self.line() != ".":
                pass
        return code, status

    def cmd(self, text):
        self.s.sendall(text.encode() + b"\r\n")
        return self.reply()

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def logged_in(user, password):
    c = Conn()
    code, status = c.cmd("AUTH %s %s" % (user, password))
    if code != 200:
        raise RuntimeError("AUTH %s: %s" % (user, status))
    return c


def forever(fn):
    """Runs fn until the end; a well-behaved client's exception is an error."""
    def run():
        while time.time() < end:
            try:
                fn()
            except (OSError, EOFError, RuntimeError, ValueError) as e:
                if time.time() < end:
                    note("errors", what="%s: %r" % (fn.__name__, e))
                    time.sleep(0.5)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def misbehave(fn):
    def run():
        while time.time() < end:
            try:
                fn()
            except (OSError, EOFError, ValueError):
                time.sleep(0.2)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def promised():
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 3 * 86400))


def writer(wid):
    c = logged_in("soak", "soak-password")
    seq = 0
    while time.time() < end:
        batch = []
        for _ in range(5):
            seq += 1
            n = "8%02d%07d" % (wid, seq % 10000000)
            batch.append(n)
        req = []
        for n in batch:
            req.append("WAYBILL CREATE %s sender_name=Zhang sender_phone=13800138000 sender_address=\"1 Road\" "
                       "sender_city=Shanghai receiver_name=Li receiver_phone=13900139000 receiver_address=\"2 Road\" "
                       "receiver_city=Beijing origin_depot=SH01 dest_depot=BJ02 goods=books pieces=1 weight_g=1000 "
                       "packaging=carrier fee_fen=1500 payment=cash promised_at=%s" % (n, promised()))
            req.append("SCAN %s picked_up depot=SH01" % n)
        c.s.sendall(("\r\n".join(req) + "\r\n").encode())
        for _ in req:
            code, status = c.reply()
            note("requests")
            if code != 201:
                note("errors", what="writer: " + status)
        with lock:
            numbers.extend(batch)
            del numbers[:-5000]
    c.close()


def reader():
    c = logged_in("soak", "soak-password")
    while time.time() < end:
        with lock:
            n = random.choice(numbers) if numbers else None
        if n:
            code, status = c.cmd("WAYBILL GET %s" % n)
            if code != 200:
                note("errors", what="reader: " + status)
        code, status = c.cmd("QUERY LIST limit=20")
        if code != 200:
            note("errors", what="reader: " + status)
        note("requests", 2)
        time.sleep(0.01)
    c.close()


def idle():
    conns = [Conn() for _ in range(20)]
    while time.time() < end:
        time.sleep(1)
    for c in conns:
        c.close()


def watchdog():
    c = Conn(timeout=60)
    while time.time() < end:
        t = time.monotonic()
        code, status = c.cmd("PING")
        ms = (time.monotonic() - t) * 1000
        with lock:
            pings.append(ms)
        if code != 200:
            note("errors", what="watchdog: " + status)
        time.sleep(0.1)
    c.close()


def non_reader():
    c = Conn()
    c.s.setblocking(False)
    t = time.time()
    while time.time() < t + 5:
        try:
            c.s.send(b"HELP\r\n" * 1000)
        except BlockingIOError:
            time.sleep(0.05)
    c.close()


def trickler():
    c = Conn()
    for ch in b"AUTH admin not-the-password\r\n" * 3:
        c.s.send(bytes([ch]))
        time.sleep(1)
        if time.time() > end:
            break
    c.close()


def garbage():
    c = Conn()
    c.s.sendall(bytes(random.getrandbits(8) for _ in range(2000)) + b"\r\n")
    c.s.sendall(b"PING " + b"x" * 100000 + b"\r\n")
    time.sleep(0.5)
    c.close()


def wrong_passwords():
    c = Conn(source="127.0.0.3")
    c.cmd("AUTH soak wrong-password-%d" % random.randrange(1 << 30))
    c.close()
    time.sleep(0.05)


def half_frames():
    c = Conn()
    c.s.sendall(b"\x93\xa4PING")  # an array of 3 with one element
    time.sleep(2)
    c.close()


for _ in range(300):  # the daemon starting
    try:
        Conn().close()
        break
    except OSError:
        time.sleep(0.1)
admin = logged_in("admin", "soak-admin-pw")
code, status = admin.cmd("USER ADD soak operator soak-password")
if code != 201:
    sys.exit("soak: USER ADD: " + status)
admin.close()

for i in range(4):
    forever(lambda i=i: writer(i))
for _ in range(4):
    forever(reader)
forever(idle)
forever(watchdog)
for fn in (non_reader, trickler, garbage, wrong_passwords, half_frames):
    misbehave(fn)


def pct(xs, p):
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else 0.0


print("%6s %9s %9s %8s %8s %8s %8s %9s %7s" % ("minute", "anon_kb", "file_kb", "ping_p50", "ping_p90", "ping_p99",
                                           "ping_max", "requests", "errors"))
minute = 0
all_pings = []
total = {"requests": 0, "errors": 0}
while time.time() < end:
    time.sleep(min(60, max(0, end - time.time())))
    minute += 1
    with lock:
        ps = sorted(pings)
        pings.clear()
        got = dict(counts)
        counts["requests"] = counts["errors"] = 0
        seen = samples[:]
        samples.clear()
    all_pings += ps
    for k in total:
        total[k] += got[k]
    print("%6d %9d %9d %8.2f %8.2f %8.2f %8.2f %9d %7d" % ((minute,) + rss_kb() + (pct(ps, 50), pct(ps, 90),
                                                        pct(ps, 99), ps[-1] if ps else 0, got["requests"],
                                                        got["errors"])), flush=True)
    for what in seen:
        print("       error: " + what[:200], flush=True)
all_pings.sort()
print("total: %d requests, %d errors; PING p50 %.2f ms, p99 %.2f ms, max %.2f ms over %d pings; "
      "rss anon %d kB, file %d kB" % ((total["requests"], total["errors"], pct(all_pings, 50), pct(all_pings, 99),
                                       all_pings[-1] if all_pings else 0, len(all_pings)) + rss_kb()))
EOF
