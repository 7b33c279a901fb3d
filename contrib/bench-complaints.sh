#!/usr/bin/env bash
# bench-complaints.sh — the measurements of issues 4 and 7, one command:
#
#   (a) the time of COMPLAINT STATS (one month, a whole year) and of the
#       overdue list (COMPLAINT LIST overdue=yes limit=50) over the wire on
#       BENCH_COUNT complaints (default 1,000,000), twice:
#       - "same day": every complaint opened on one day (2027-03-01), then
#         the clock moved to 2027-03-04 so that the unacknowledged ones are
#         past their acknowledge-by time;
#       - "year": the complaints spread over 365 days of 2025 with CLOCK SET
#         between batches, the daemon sweeping due times by itself as its
#         clock moves;
#   (b) the cost of one due-time computation: build/contrib/bench-bizcal;
#   (c) the timers: one libevent timer in the daemon (daemon/server.c
#       due_timer) and one entry per complaint with a pending due time in the
#       `timers` database, counted here with mdb_stat.
#
# Loading: contrib/gen-complaints.py writes the text-protocol lines (seeded)
# and build/contrib/import sends them to the daemon over ONE connection
# (-c 1), so the lines run in file order (complaint ids are the line order;
# CLOCK SET lines take effect between them) while pipelined writes still
# share group commits. (The importer's stopped-store mode would be faster but
# rejects every COMPLAINT OPEN with "500 internal error: cannot compute due
# times": it does not call complaint_setup().)
#
# Settings (environment):
#   BENCH_COUNT   complaints per data set (1000000)
#   BENCH_RUNS    timed runs of each request (7); the median is reported
#   BENCH_DIR     where the stores go (default /dev/shm when writable, else
#                 $TMPDIR or /tmp); each store is removed after its run
#   BENCH_SETS    which data sets: "same year" (both)
# The daemon listens on 127.0.0.1 only and is stopped by PID on exit.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
count=${BENCH_COUNT:-1000000}
runs=${BENCH_RUNS:-7}
sets=${BENCH_SETS:-same year}
if [ -z "${BENCH_DIR:-}" ]; then
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then BENCH_DIR=/dev/shm; else BENCH_DIR=${TMPDIR:-/tmp}; fi
fi
py=/usr/bin/python3
[ -x "$py" ] || py=python3
daemon=$root/build/parceldeskd
import=$root/build/contrib/import
password=bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
tmp=$(mktemp -d "$BENCH_DIR/bench-complaints.XXXXXX")
pid=

say() { printf '%s\n' "$*" >&2; }

stop_daemon() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	pid=
}
cleanup() { stop_daemon; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

make -C "$root" -s build/parceldeskd build/contrib/import build/contrib/bench-bizcal >&2

free_port() {
	$py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start_daemon() { # DATA_DIR
	port=$(free_port)
	PARCELDESK_ADMIN_PASSWORD=$password "$daemon" --listen "127.0.0.1:$port" --data-dir "$1" \
		--enable-test-clock >"$tmp/daemon.log" 2>&1 &
	pid=$!
	for _ in $(seq 300); do
		if $py - "$port" <<'EOF' 2>/dev/null; then return 0; fi
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(b"PING\r\n")
sys.exit(0 if s.recv(100).startswith(b"200") else 1)
EOF
		sleep 0.1
	done
	say "bench-complaints: the daemon did not start"; cat "$tmp/daemon.log" >&2; exit 1
}

# wire.py ACTION...: one msgpack connection as admin. Actions:
#   clock TIME        CLOCK SET
#   settle            SWEEP until nothing is due (the daemon's own timer does
#                     the same; this waits for it)
#   time NAME N REQ   N timed runs of REQ (words and key=value), prints
#                     "NAME median ms (min .. max), reply summary"
cat >"$tmp/wire.py" <<'EOF'
import socket, statistics, sys, time
import msgpack
port, password = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
up = msgpack.Unpacker(raw=False, strict_map_key=False)
def call(*words, **named):
    req = list(words) + ([named] if named else [])
    s.sendall(msgpack.packb(req, use_bin_type=True))
    while True:
        try:
            return up.unpack()
        except msgpack.OutOfData:
            up.feed(s.recv(1 << 20))
r = call("AUTH", "admin", password)
assert r["code"] == 200, r
args = sys.argv[3:]
while args:
    a = args.pop(0)
    if a == "clock":
        r = call("CLOCK", "SET", args.pop(0)); assert r["code"] == 200, r
    elif a == "settle":
        t0 = time.time(); n = 0
        while True:
            r = call("SWEEP"); assert r["code"] == 200, r
            n += r["data"]["done"]
            if not r["data"]["more"] and r["data"]["done"] == 0:
                break
        print("  swept %d due action(s) in %.1f s (besides the daemon's own sweeps)" % (n, time.time() - t0))
    elif a == "time":
        name, n, req = args.pop(0), int(args.pop(0)), args.pop(0).split()
        words = [w for w in req if "=" not in w]
        named = dict(w.split("=", 1) for w in req if "=" in w)
        if "limit" in named: named["limit"] = int(named["limit"])
        ms = []
        for _ in range(n):
            t0 = time.perf_counter()
            r = call(*words, **named)
            ms.append((time.perf_counter() - t0) * 1000)
            assert r["code"] == 200, r
        d = r["data"]
        if isinstance(d, list):
            summary = "%d rows" % len(d)
        else:
            summary = "opened %s, closed %s, escalated %s, overdue %s, resolve_count %s" % (
                d.get("opened"), d.get("closed"), d.get("escalated"), d.get("overdue"), d.get("resolve_count"))
        print("  %-34s median %8.1f ms  (min %.1f, max %.1f; %d runs)  %s" % (
            name, statistics.median(ms), min(ms), max(ms), n, summary))
    else:
        raise SystemExit("wire.py: unknown action " + a)
EOF
wire() { $py "$tmp/wire.py" "$port" "$password" "$@"; }

timers_count() { # DATA_DIR (daemon stopped)
	mdb_stat -s timers "$1" 2>/dev/null | awk '/Entries:/ {print $2}'
}

run_set() { # NAME GEN_ARGS CLOCK_BEFORE CLOCK_AFTER MONTH YEAR_FROM YEAR_TO
	local name=$1 gen_args=$2 before=$3 after=$4 month=$5 from=$6 to=$7
	local dir=$tmp/$name
	mkdir -p "$dir/data"
	say "== $name: generating $count complaints ($gen_args)"
	$py "$root/contrib/gen-complaints.py" --count "$count" $gen_args >"$dir/lines.txt"
	say "   $(wc -l <"$dir/lines.txt") lines"
	start_daemon "$dir/data"
	wire clock "$before" >/dev/null
	say "== $name: importing over one connection"
	local t0=$SECONDS
	# (a few rows may be refused, e.g. closing a complaint the daemon has
	# meanwhile escalated by itself to the manager queue: the importer then
	# exits 1; its last line counts them)
	{ "$import" -h 127.0.0.1 -p "$port" -u admin -a "$password" -c 1 "$dir/lines.txt" 2>&1 || true; } |
		tail -1 | sed 's/^/   /' >&2
	say "   import took $((SECONDS - t0)) s"
	echo "== $name ($count complaints; $gen_args)"
	wire clock "$after" settle
	wire time "COMPLAINT STATS month=$month" "$runs" "COMPLAINT STATS month=$month" \
	     time "COMPLAINT STATS year $from..$to" "$runs" "COMPLAINT STATS from=$from to=$to" \
	     time "COMPLAINT LIST overdue=yes limit=50" "$runs" "COMPLAINT LIST overdue=yes limit=50" \
	     time "COMPLAINT LIST limit=50 (newest)" "$runs" "COMPLAINT LIST limit=50"
	echo "  store: $(du -sh "$dir/data" | cut -f1), daemon RSS $(awk '/VmRSS/ {print $2 " " $3}' /proc/$pid/status)"
	stop_daemon
	echo "  timers database entries: $(timers_count "$dir/data") (one per complaint with a pending due time;"
	echo "  the daemon arms ONE libevent timer, for the first of them)"
	rm -rf "$dir"
}

for s in $sets; do
	case $s in
	same) run_set same-day "" 2027-03-01T10:00:00+08:00 2027-03-04T10:00:00+08:00 2027-03 2027-01-01 2027-12-31 ;;
	year) run_set year "--days 365 --start 2025-01-01" 2025-01-01T08:00:00+08:00 2026-01-01T00:00:00+08:00 \
		2025-06 2025-01-01 2025-12-31 ;;
	*) say "bench-complaints: unknown set $s"; exit 2 ;;
	esac
done

echo "== due-time computation (build/contrib/bench-bizcal)"
"$root/build/contrib/bench-bizcal" | sed 's/^/  /'
