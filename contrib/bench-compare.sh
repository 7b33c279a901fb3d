#!/usr/bin/env bash
# bench-compare.sh — parceldeskd against Redis on the same machine, one command.
#
# Builds, starts a fresh parceldeskd on a free 127.0.0.1 port with a fresh
# data directory, loads BENCH_WAYBILLS waybills of BENCH_EVENTS events each,
# then measures WAYBILL GET (1 and 50 connections, pipeline 1 and 16, in the
# msgpack and the text framing), durable SCAN writes (1 and 50 connections),
# and a mix of 90 % GET and 10 % SCAN at 50 connections, with the writer's
# average group commit size over each write run (from STATS). With
# BENCH_BASELINE_DAEMON, an older build runs the same rows afterwards (the
# "before" columns), on a store its own import tool loaded when it has one. Then the same shapes against
# redis-server with appendfsync always, through the same client (bench
# --framing resp): GET of values as large as our GET reply in each framing
# (the msgpack rows, SET and the mix with the msgpack reply's size; the text
# rows after the keys are set again to the text reply's size), SET for SCAN,
# and the same 90/10 mix of GET and SET. Prints one table with the ratio
# per row and a last line with the worst ratio.
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
#   BENCH_BASELINE_DAEMON  an older parceldeskd to measure after this one
#                       (its rows: "before"). When its build has an import
#                       tool (DIR/contrib/import beside DIR/parceldeskd, or
#                       BENCH_BASELINE_IMPORT), the store is thrown away and
#                       loaded again by that tool, so an older build reads
#                       the layout it wrote (round 6 moved the views into
#                       the waybill's value, which an older build cannot
#                       read); without one it runs on the same store
#   REDIS_VALUE_BYTES   Redis value size for every row (default: the size of
#                       parceldesk's GET reply in the row's framing, so both
#                       move the same bytes per read)
# Every server started here listens on 127.0.0.1 only and is stopped by PID
# on exit; the temporary directory is removed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
waybills=${BENCH_WAYBILLS:-1000000}
events=${BENCH_EVENTS:-10}
secs=${BENCH_SECS:-10}
load_conns=${BENCH_LOAD_CONNS:-64}
load_pipeline=${BENCH_LOAD_PIPELINE:-2}
baseline_daemon=${BENCH_BASELINE_DAEMON:-}
baseline_import=${BENCH_BASELINE_IMPORT:-}
if [[ -n $baseline_daemon && -z $baseline_import && -x $(dirname "$baseline_daemon")/contrib/import ]]; then
	baseline_import=$(dirname "$baseline_daemon")/contrib/import
fi
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
# Ready for the runs once the store's pages are mapped (store_prefault done;
# a build without it has no such field), as Redis has its data in memory
# before its runs (at most 2 minutes).
pd_mapped() {
	local _ stats
	for _ in $(seq 240); do
		# read whole (grep -q in the pipe would end it early: pipefail)
		stats=$(pd_talk "$1" "AUTH admin $password" STATS) || return 0
		[[ $stats == *$'\nstore_prefault: running\n'* ]] || return 0
		sleep 0.5
	done
	say "bench-compare: the store's pages are still being mapped; running anyway"
}
redis_pong() { redis-cli -h 127.0.0.1 -p "$1" ping | grep -q PONG; }

start_parceldesk() { # [DAEMON]
	local attempt exe=${1:-$daemon}
	for attempt in 1 2 3; do
		pd_port=$(free_port)
		# every client of the benchmark comes from one address and logs in
		# at once (a build older than these limits has neither the limits
		# nor the options: its binary does not name them)
		local per_address=(--max-connections-per-address 4096
			--login-concurrent-per-address 4096)
		grep -qa login_concurrent_per_address "$exe" || per_address=()
		PARCELDESK_ADMIN_PASSWORD=$password "$exe" --listen "127.0.0.1:$pd_port" \
			--data-dir "$tmp/parceldesk" "${per_address[@]}" \
			2>>"$tmp/parceldeskd.log" &
		pd_pid=$!
		server_pids+=("$pd_pid")
		wait_ready "$pd_pid" parceldeskd pd_pong "$pd_port" && { pd_mapped "$pd_port"; return 0; }
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
pd_run() { # MIX CONNECTIONS PIPELINE FRAMING
	"$bench" -p "$pd_port" -u admin -a "$password" --framing "$4" \
		--number-format "$number_format" --number-count "$waybills" \
		--mix "$1" -c "$2" -P "$3" -d "$secs" --csv
}

# The same client against Redis (get: GET, scan: SET of values of BYTES);
# prints its CSV line.
redis_run() { # MIX CONNECTIONS PIPELINE BYTES
	"$bench" -p "$redis_port" --framing resp --value-bytes "$4" \
		--number-format "$number_format" --number-count "$waybills" \
		--mix "$1" -c "$2" -P "$3" -d "$secs" --csv
}

# Sets key:000000000001 .. key:N, the keys bench asks for, to values of BYTES.
redis_fill() { # BYTES
	say "bench-compare: redis: $waybills keys of $1 bytes"
	awk -v n="$waybills" -v d="$1" 'BEGIN {
		v = sprintf("%" d "s", ""); gsub(/ /, "x", v)
		for (i = 1; i <= n; i++) {
			k = sprintf("key:%012d", i)
			printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, d, v
		}
	}' | redis-cli -h 127.0.0.1 -p "$redis_port" --pipe >/dev/null
	# the AOF's gigabytes written back now, not under the rows after
	sync
}

# ---- build ----
say "bench-compare: building"
make -s -C "$root" >/dev/null || die "make failed"
for tool in redis-server redis-cli; do
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
# Loads a fresh store with an import tool (the waybills go through that
# build's own handlers, so the store has that build's layout).
pd_import() { # IMPORT
	say "bench-compare: importing $waybills waybills x $events events into a stopped store ($1)"
	rm -rf "$tmp/parceldesk"
	mkdir -p "$tmp/parceldesk"
	load_lines | "$1" --data-dir "$tmp/parceldesk" - 2>"$tmp/import.log" ||
		die "import failed: $(tail -3 "$tmp/import.log")"
}

load_started=$(date +%s)
if [ "${BENCH_LOAD:-import}" = import ]; then
	pd_import "$root/build/contrib/import"
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

store_bytes=$(pd_store_bytes "$pd_port")
store_mb=$(( store_bytes / 1048576 ))
say "bench-compare: loaded $load_ops requests in ${load_secs}s ($load_rate/s); store $store_mb MiB"

# name|mix|connections|pipeline|framing
tests=(
	"get c1 P1|get:100|1|1|msgpack"
	"get c1 P16|get:100|1|16|msgpack"
	"get c50 P1|get:100|50|1|msgpack"
	"get c50 P16|get:100|50|16|msgpack"
	"get text c1 P1|get:100|1|1|text"
	"get text c1 P16|get:100|1|16|text"
	"get text c50 P1|get:100|50|1|text"
	"get text c50 P16|get:100|50|16|text"
	"scan c1 P1|scan:100|1|1|msgpack"
	"scan c50 P1|scan:100|50|1|msgpack"
	"mix c50 P1|get:90,scan:10|50|1|msgpack"
)
load_avg=$(cut -d' ' -f1-3 /proc/loadavg)
# Redis's value size a framing: REDIS_VALUE_BYTES, else our GET reply's
# bytes in that framing, taken from its first row.
declare -A value_bytes
if [[ -n ${REDIS_VALUE_BYTES:-} ]]; then
	value_bytes[msgpack]=$REDIS_VALUE_BYTES
	value_bytes[text]=$REDIS_VALUE_BYTES
fi

# Runs every row against the running daemon; results into the arrays
# named by $1 (CSV lines) and $2 (writes per commit).
declare -A pd_result group_avg base_result base_group
pd_rows() { # RESULTS GROUPS WHO
	local -n results=$1 groups=$2
	local t name mix conns depth fr before after line
	for t in "${tests[@]}"; do
		IFS='|' read -r name mix conns depth fr <<<"$t"
		say "bench-compare: $3 $name"
		before=$(pd_writer_stats "$pd_port")
		line=$(pd_run "$mix" "$conns" "$depth" "$fr") || die "bench failed on $name"
		after=$(pd_writer_stats "$pd_port")
		results[$name]=$line
		groups[$name]=-
		if [[ $mix == *scan* ]]; then
			groups[$name]=$(echo "$before $after" | awk '{
				g = $4 - $1; j = $5 - $2
				if (g > 0) printf "%.2f", j / g; else printf "-"
			}')
		fi
		if [[ -z ${value_bytes[$fr]:-} ]]; then
			value_bytes[$fr]=$(cut -d, -f10 <<<"$line")
		fi
	done
}

pd_rows pd_result group_avg parceldesk
pd_rss=$(awk '/^VmRSS:/ {r = $2} /^RssAnon:/ {a = $2} END {printf "%d MiB (anonymous %d MiB)", r / 1024, a / 1024}' \
	"/proc/$pd_pid/status")
stop_server "$pd_pid"
if [[ -n $baseline_daemon ]]; then
	[[ -n $baseline_import ]] && pd_import "$baseline_import"
	start_parceldesk "$baseline_daemon"
	pd_rows base_result base_group "before ($baseline_daemon)"
	stop_server "$pd_pid"
fi

# ---- redis ----
declare -A redis_result
# No automatic AOF rewrite: setting every key again for the text rows would
# start one (a fork writing the whole data set) during them.
start_redis redis --save '' --appendonly yes --appendfsync always --auto-aof-rewrite-percentage 0
say "bench-compare: redis (appendfsync always) on 127.0.0.1:$redis_port"
# The msgpack rows (and SCAN's SET, the mix) first, then the text rows on
# keys set again to the text reply's size.
for framing in msgpack text; do
	redis_fill "${value_bytes[$framing]}"
	for t in "${tests[@]}"; do
		IFS='|' read -r name mix conns depth fr <<<"$t"
		[[ $fr == "$framing" ]] || continue
		say "bench-compare: redis $name"
		redis_result[$name]=$(redis_run "$mix" "$conns" "$depth" "${value_bytes[$framing]}") ||
			die "bench failed on redis $name"
	done
done
stop_server "$redis_pid"

# ---- table ----
echo
echo "parceldesk $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') vs $(redis-server --version | awk '{sub(/^v=/, "", $3); print $3}'):" \
	"$waybills waybills x $events events (loaded in ${load_secs}s, $load_rate requests/s, store $store_mb MiB," \
	"$(( store_bytes / waybills )) bytes a waybill; daemon RSS after the runs $pd_rss)," \
	"${secs}s a run, $(nproc) CPUs (load average $load_avg before the runs);" \
	"Redis values ${value_bytes[msgpack]} bytes (msgpack rows, SET), ${value_bytes[text]} (text rows)${baseline_daemon:+; before = $baseline_daemon}${baseline_import:+ on a store loaded by $baseline_import}"
printf '%-17s %9s %7s %8s %9s %8s %9s %8s %8s %7s %7s %s\n' test "pd ops/s" "p50 us" "p99 us" \
	"before" "b p99" "redis" "r p99 us" "pd/redis" group "b group" errors
worst=""
for t in "${tests[@]}"; do
	IFS='|' read -r name _ _ _ _ <<<"$t"
	IFS=, read -r _ _ rate p50 p99 _ _ errors codes _ <<<"${pd_result[$name]}"
	IFS=, read -r _ _ b_rate _ b_p99 _ <<<"${base_result[$name]:-,,-,,-}"
	IFS=, read -r _ _ r_rate _ r_p99 _ <<<"${redis_result[$name]}"
	ratio=$(awk -v a="$rate" -v b="$r_rate" 'BEGIN {if (b > 0) printf "%.2f", a / b; else printf "-"}')
	if [[ $ratio != - ]] && { [[ -z $worst ]] || awk -v a="$ratio" -v b="${worst%% *}" 'BEGIN {exit !(a < b)}'; }; then
		worst="$ratio ($name)"
	fi
	printf '%-17s %9s %7s %8s %9s %8s %9s %8s %8s %7s %7s %s\n' "$name" "$rate" "$p50" "$p99" \
		"$b_rate" "$b_p99" "$r_rate" "$r_p99" "$ratio" "${group_avg[$name]}" "${base_group[$name]:--}" \
		"$errors${codes:+ ($codes)}"
done
echo "scan = SCAN <number> damaged depot=...: a durable write, answered after its group's LMDB commit;" \
	"Redis does SET with appendfsync always; mix = 90 % GET, 10 % SCAN (Redis: GET, SET)."
echo "group = writes per commit in the run (b group: before). Redis runs through the same client (bench --framing resp)."
echo "worst pd/redis: ${worst:--}"
