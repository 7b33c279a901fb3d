#!/bin/sh
# tsan-check.sh BUILD — the daemon built with ThreadSanitizer (make
# tsan-check builds it in build/tsan) under the end-to-end files that work
# its threads hardest, then a stress of pipelined reads and writes over 50
# connections (logins, reads on every loop thread, group commits handed
# back to each loop, STATS summing the loops). Fails on any TSan report
# (docs/testing.md, "ThreadSanitizer").
set -u
B=${1:-build/tsan}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
out=$(mktemp -d "${TMPDIR:-/tmp}/pd-tsan.XXXXXX")
# the reports go to files, one a process: the e2e files check the
# daemon's own stderr and exit code, which a report must not disturb
TSAN_OPTIONS="log_path=$out/report exitcode=0 suppressions=$root/tests/tsan.supp second_deadlock_stack=1"
export TSAN_OPTIONS

# three loop threads whatever the machine's default (one on 2 CPUs): the
# races to find are between loops
loops="--loop-threads 3"
rc=0
PARCELDESK_E2E_DAEMON_ARGS=$loops /usr/bin/python3 tests/e2e/run_e2e.py --daemon "$B/parceldeskd" --client "$B/parceldesk" -j 1 \
	tests/e2e/test_limits.py tests/e2e/test_durability.py tests/e2e/test_session.py \
	tests/e2e/test_pipeline.py tests/e2e/test_stats.py tests/e2e/test_metrics.py tests/e2e/test_handback.py \
	>"$out/e2e.log" 2>&1
echo "e2e under TSan: $(tail -1 "$out/e2e.log") (not counted: see docs/testing.md)"

# the stress: a small store, then reads and durable writes, pipelined.
# A port (and the next, for /metrics) nothing answers on; a port lost to
# another process before the bind ("cannot listen", "cannot serve
# metrics") is picked again, twice at most.
free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
mkdir -p "$out/data"
pid=
for _ in 1 2 3; do
	port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
	free "$port" && free $((port + 1)) || continue
	PARCELDESK_ADMIN_PASSWORD=tsanpass "$B/parceldeskd" --listen "127.0.0.1:$port" \
		--data-dir "$out/data" --max-connections-per-address 4096 $loops \
		--login-concurrent-per-address 4096 --metrics-listen "127.0.0.1:$((port + 1))" \
		2>"$out/stress-daemon.log" &
	pid=$!
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.2
	done
	kill -0 "$pid" 2>/dev/null && break
	wait "$pid"
	pid=
	grep -q 'cannot listen\|cannot serve metrics' "$out/stress-daemon.log" || break
done
if [ -z "$pid" ]; then
	echo "tsan-check: the stress daemon did not start: $(tail -3 "$out/stress-daemon.log" 2>/dev/null)"
	exit 1
fi
bench="$B/contrib/bench -p $port -u admin -a tsanpass --number-count 300"
step() { # NAME COMMAND...: runs it, output in $out/NAME.csv
	name=$1
	shift
	"$@" >"$out/$name.csv" 2>&1 || { echo "tsan-check: $name failed: $(tail -2 "$out/$name.csv")"; rc=1; }
}
step load $bench --load 300 --events 3 -c 8 -P 4 --timeout 120 --csv
step mix $bench --mix get:80,scan:15,ping:5 -c 50 -P 16 -d 8 --timeout 120 --csv
step text $bench --mix get:100 --framing text -c 20 -P 8 -d 4 --timeout 120 --csv
curl -s "http://127.0.0.1:$((port + 1))/metrics" >/dev/null 2>&1 || true
PARCELDESK_PASSWORD=tsanpass timeout 60 "$B/parceldesk" -p "$port" -u admin --raw STATS \
	>"$out/stats.txt" 2>&1
grep -q '^requests_msgpack:' "$out/stats.txt" || { echo "tsan-check: no STATS after the stress"; rc=1; }
kill -TERM "$pid"
wait "$pid" || { echo "tsan-check: the stressed daemon did not stop cleanly"; rc=1; }
echo "stress: $(cut -d, -f1-3 "$out/mix.csv") (requests, ms, per second)"

reports=$(cat "$out"/report.* 2>/dev/null | grep -c 'WARNING: ThreadSanitizer')
if [ "$reports" -ne 0 ]; then
	echo "tsan-check: $reports ThreadSanitizer reports (in $out/report.*):"
	grep -h -A12 'WARNING: ThreadSanitizer' "$out"/report.* | head -80
	rc=1
fi
[ $rc -eq 0 ] && { echo "tsan-check: no reports"; rm -rf "$out"; } || echo "tsan-check: FAILED (kept $out)"
exit $rc
