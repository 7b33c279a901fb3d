#!/usr/bin/env bash
# bench-compare.sh — parceldeskd against Redis on the same machine, one command.
#
# Builds, starts a fresh parceldeskd on a free 127.0.0.1 port with a fresh
# data directory, loads BENCH_WAYBILLS waybills of BENCH_EVENTS events each
# (bench --load), then measures WAYBILL GET (1 and 50 connections, pipeline
# 1 and 16) and durable SCAN writes (1 and 50 connections, pipeline 1), and
# the writer's average group commit size over each write run (from STATS).
# Then the same shapes against redis-server: GET on a plain server holding as
# many keys, SET on one with appendfsync always. Prints one table.
#
# Settings (environment):
#   BENCH_WAYBILLS      waybills to load (default 1000000)
#   BENCH_EVENTS        tracking events per waybill, the creation included (10)
#   BENCH_SECS          seconds per parceldesk measurement (10); Redis runs the
#                       same number of requests as parceldesk did
#   BENCH_LOAD          import (default): the waybills go into the stopped
#                       store through contrib/import, which runs them through
#                       the daemon's own handlers in large transactions;
#                       network: pipelined durable writes (bench --load)
#   BENCH_LOAD_CONNS    loader connections (64); BENCH_LOAD_PIPELINE (2)
#   BENCH_FRAMING       msgpack or text (msgpack)
#   REDIS_VALUE_BYTES   Redis value size (default: the size of parceldesk's
#                       GET reply, so both move the same bytes per read)
# Every server started here listens on 127.0.0.1 only and is stopped by PID
# on exit; the temporary directory is removed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
waybills=${BENCH_WAYBILLS:-1000000}
events=${BENCH_EVENTS:-10}
secs=${BENCH_SECS:-10}
load_conns=${BENCH_LOAD_CONNS:-64}
load_pipeline=${BENCH_LOAD_PIPELINE:-2}
framing=${BENCH_FRAMING:-msgpack}
number_format='%012d'

bench=$root/build/contrib/bench
daemon=$root/build/parceldeskd
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-compare.XXXXXX")
cd "$tmp"
password=bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
server_pids=()

cleanup() {
	local pid
	for pid in "${server_pids[@]}"; do
		kill "$pid" 2>/dev/null || continue
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*" >&2; }
die() { say "bench-compare: $*"; exit 1; }

# A port nothing listens on (a refused connection means free).
free_port() {
	local port
	for _ in $(seq 50); do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	die "no free port found"
}

# Sends text lines to the daemon and prints every reply line (CR removed);
# the lines end with QUIT so the daemon closes the connection.
pd_talk() (
	port=$1
	shift
	exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
	printf '%s\r\n' "$@" QUIT >&3
	timeout 10 cat <&3 | tr -d '\r'
)

# "groups jobs avg" of the writer, from STATS.
pd_writer_stats() {
	pd_talk "$1" "AUTH admin $password" STATS |
		awk -F': ' '/^writer_groups:/ {g = $2} /^writer_jobs:/ {j = $2}
			    /^writer_avg_group:/ {a = $2} END {print g + 0, j + 0, a}'
}

pd_store_bytes() {
	pd_talk "$1" "AUTH admin $password" STATS | awk -F': ' '/^store_used_bytes:/ {print $2}'
}

wait_ready() { # PID what command...
	local pid=$1 what=$2
	shift 2
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 1
		if "$@" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	say "bench-compare: $what did not get ready"
	return 1
}

pd_pong() { pd_talk "$1" PING | grep -q '^200 PONG'; }
redis_pong() { redis-cli -h 127.0.0.1 -p "$1" ping | grep -q PONG; }

start_parceldesk() {
	local attempt
	for attempt in 1 2 3; do
		pd_port=$(free_port)
		# every client of the benchmark comes from one address
		PARCELDESK_ADMIN_PASSWORD=$password "$daemon" --listen "127.0.0.1:$pd_port" \
			--data-dir "$tmp/parceldesk" --max-connections-per-address 4096 \
			2>>"$tmp/parceldeskd.log" &
		pd_pid=$!
		server_pids+=("$pd_pid")
		wait_ready "$pd_pid" parceldeskd pd_pong "$pd_port" && return 0
		say "bench-compare: parceldeskd did not start (attempt $attempt):"
		tail -5 "$tmp/parceldeskd.log" >&2
	done
	die "cannot start parceldeskd"
}

start_redis() { # NAME ARGS...
	local name=$1 attempt
	shift
	mkdir -p "$tmp/$name"
	for attempt in 1 2 3; do
		redis_port=$(free_port)
		redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$tmp/$name" \
			--daemonize no --logfile "$tmp/$name.log" "$@" &
		redis_pid=$!
		server_pids+=("$redis_pid")
		wait_ready "$redis_pid" redis-server redis_pong "$redis_port" && return 0
		say "bench-compare: redis-server did not start (attempt $attempt)"
	done
	die "cannot start redis-server"
}

stop_server() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# Runs bench in mix mode; prints its CSV line.
pd_run() { # MIX CONNECTIONS PIPELINE
	"$bench" -p "$pd_port" -u admin -a "$password" --framing "$framing" \
		--number-format "$number_format" --number-count "$waybills" \
		--mix "$1" -c "$2" -P "$3" -d "$secs" --csv
}

# Runs redis-benchmark; prints "ops_per_sec p50_us p99_us".
redis_run() { # TEST CONNECTIONS PIPELINE REQUESTS
	redis-benchmark -h 127.0.0.1 -p "$redis_port" -t "$1" -c "$2" -P "$3" -n "$4" \
		-r "$waybills" -d "$value_bytes" --csv |
		awk -F, 'NR == 2 {
			gsub(/"/, "");
			printf "%d %d %d\n", $2, $5 * 1000, $7 * 1000
		}'
}

# Fills Redis with key:000000000000 .. as redis-benchmark -r names them.
redis_fill() {
	awk -v n="$waybills" -v d="$value_bytes" 'BEGIN {
		v = sprintf("%" d "s", ""); gsub(/ /, "x", v)
		for (i = 0; i < n; i++) {
			k = sprintf("key:%012d", i)
			printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, d, v
		}
	}' | redis-cli -h 127.0.0.1 -p "$redis_port" --pipe >/dev/null
}

# ---- build ----
say "bench-compare: building"
make -s -C "$root" >/dev/null || die "make failed"
for tool in redis-server redis-benchmark redis-cli; do
	command -v "$tool" >/dev/null || die "$tool is needed"
done

# The load as text requests, the same the network loader sends: waybills
# 1..N, each created then scanned picked_up, departed, arrived, ...
load_lines() {
	local promised
	promised=$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)
	awk -v n="$waybills" -v e="$events" -v p="$promised" 'BEGIN {
		for (i = 1; i <= n; i++) {
			num = sprintf("%012d", i); tail = substr(num, 5)
			printf "WAYBILL CREATE %s sender_name=\"Bench Sender\" sender_phone=139%s sender_address=\"1 Benchmark Road\" sender_city=Shanghai receiver_name=\"Bench Receiver\" receiver_phone=138%s receiver_address=\"2 Load Street\" receiver_city=Beijing origin_depot=BENCH01 dest_depot=BJ01 goods=books pieces=1 weight_g=1200 packaging=carrier fee_fen=1800 payment=cash promised_at=%s\n", num, tail, tail, p
			for (s = 1; s < e; s++)
				printf "SCAN %s %s depot=BENCH01\n", num, s == 1 ? "picked_up" : (s % 2 == 0 ? "departed" : "arrived")
		}
	}'
}

# ---- parceldesk ----
load_started=$(date +%s)
if [ "${BENCH_LOAD:-import}" = import ]; then
	say "bench-compare: importing $waybills waybills x $events events into a stopped store"
	mkdir -p "$tmp/parceldesk"
	load_lines | "$root/build/contrib/import" --data-dir "$tmp/parceldesk" - 2>"$tmp/import.log" ||
		die "import failed: $(tail -3 "$tmp/import.log")"
	start_parceldesk
	load_ops=$(( waybills * events ))
	load_secs=$(( $(date +%s) - load_started ))
	load_rate=$(( load_ops / (load_secs > 0 ? load_secs : 1) ))
else
	start_parceldesk
	say "bench-compare: parceldeskd on 127.0.0.1:$pd_port; loading $waybills waybills x $events events"
	"$bench" -p "$pd_port" -u admin -a "$password" --framing msgpack \
		--number-format "$number_format" --load "$waybills" --events "$events" \
		-c "$load_conns" -P "$load_pipeline" --timeout 120 --csv >"$tmp/load.csv" ||
		die "loading failed: $(cat "$tmp/load.csv")"
	load_secs=$(( $(date +%s) - load_started ))
	IFS=, read -r load_ops _ load_rate _ <"$tmp/load.csv"
fi
store_mb=$(( $(pd_store_bytes "$pd_port") / 1048576 ))
say "bench-compare: loaded $load_ops requests in ${load_secs}s ($load_rate/s); store $store_mb MiB"

# name mix connections pipeline redis-test
tests=(
	"get c1 P1|get:100|1|1|get"
	"get c1 P16|get:100|1|16|get"
	"get c50 P1|get:100|50|1|get"
	"get c50 P16|get:100|50|16|get"
	"scan c1 P1|scan:100|1|1|set"
	"scan c50 P1|scan:100|50|1|set"
)
declare -A pd_result group_avg
group_notes=()
load_avg=$(cut -d' ' -f1-3 /proc/loadavg)
value_bytes=${REDIS_VALUE_BYTES:-}
for t in "${tests[@]}"; do
	IFS='|' read -r name mix conns depth _ <<<"$t"
	say "bench-compare: parceldesk $name"
	before=$(pd_writer_stats "$pd_port")
	line=$(pd_run "$mix" "$conns" "$depth") || die "bench failed on $name"
	after=$(pd_writer_stats "$pd_port")
	pd_result[$name]=$line
	group_avg[$name]=$(echo "$before $after" | awk '{
		g = $4 - $1; j = $5 - $2
		if (g > 0) printf "%.2f", j / g; else printf "-"
	}')
	if [[ $mix == scan* ]]; then
		group_notes+=("$name ${before##* } -> ${after##* }")
	fi
	# Redis values as large as our GET reply, measured on the first run.
	if [[ -z $value_bytes ]]; then
		value_bytes=$(cut -d, -f10 <<<"$line")
	fi
done
stop_server "$pd_pid"

# ---- redis ----
declare -A redis_result
start_redis redis-plain --save '' --appendonly no
say "bench-compare: redis (no persistence) on 127.0.0.1:$redis_port; $waybills keys of $value_bytes bytes"
redis_fill
for t in "${tests[@]}"; do
	IFS='|' read -r name _ conns depth rtest <<<"$t"
	[[ $rtest == get ]] || continue
	ops=$(cut -d, -f1 <<<"${pd_result[$name]}")
	say "bench-compare: redis $name"
	redis_result[$name]=$(redis_run get "$conns" "$depth" $((ops > 10000 ? ops : 10000)))
done
stop_server "$redis_pid"

start_redis redis-aof --save '' --appendonly yes --appendfsync always
say "bench-compare: redis (appendfsync always) on 127.0.0.1:$redis_port"
for t in "${tests[@]}"; do
	IFS='|' read -r name _ conns depth rtest <<<"$t"
	[[ $rtest == set ]] || continue
	ops=$(cut -d, -f1 <<<"${pd_result[$name]}")
	say "bench-compare: redis $name (set)"
	redis_result[$name]=$(redis_run set "$conns" "$depth" $((ops > 1000 ? ops : 1000)))
done
stop_server "$redis_pid"

# ---- table ----
echo
echo "parceldesk $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') vs $(redis-server --version | awk '{print $3}'):" \
	"$waybills waybills x $events events (loaded in ${load_secs}s, store $store_mb MiB)," \
	"$framing, ${secs}s a run, $(nproc) CPUs (load average $load_avg before the runs);" \
	"Redis values $value_bytes bytes"
printf '%-13s %11s %8s %8s %9s %12s %9s %9s %8s %7s %s\n' test "pd ops/s" "p50 us" "p99 us" \
	"p99.9 us" "redis ops/s" "r p50 us" "r p99 us" "pd/redis" group errors
for t in "${tests[@]}"; do
	IFS='|' read -r name _ _ _ rtest <<<"$t"
	IFS=, read -r _ _ rate p50 p99 p999 _ errors codes _ <<<"${pd_result[$name]}"
	read -r r_rate r_p50 r_p99 <<<"${redis_result[$name]:-0 0 0}"
	ratio=$(awk -v a="$rate" -v b="$r_rate" 'BEGIN {if (b > 0) printf "%.2f", a / b; else printf "-"}')
	group=${group_avg[$name]}
	[[ $rtest == set ]] || group=-
	printf '%-13s %11s %8s %8s %9s %12s %9s %9s %8s %7s %s\n' "$name" "$rate" "$p50" "$p99" \
		"$p999" "$r_rate" "$r_p50" "$r_p99" "$ratio" "$group" "$errors${codes:+ ($codes)}"
done
echo "scan = SCAN <number> damaged depot=...: a durable write, answered after its group's" \
	"LMDB commit; Redis does SET with appendfsync always. group = writes per commit in the run."
for note in "${group_notes[@]}"; do
	echo "writer_avg_group (STATS, since start) around $note"
done
