#!/usr/bin/env bash
# bench-compare.sh — parceldeskd against Redis on the same machine, one command.
#
# Builds, loads BENCH_WAYBILLS waybills of BENCH_EVENTS events each into a
# fresh data directory, and starts every server the run compares, each on a
# free 127.0.0.1 port: this parceldeskd; with BENCH_BASELINE_DAEMON an older
# build (the "before" columns) on a store of its own; redis-server with
# appendfsync always. All of them run for the whole measurement, each ready
# before the first row (a daemon's store dropped from the page cache and
# read back in single pages before it starts, its pages mapped,
# store_prefault done).
# The rows: WAYBILL GET (1 and 50 connections, pipeline 1 and 16, in the
# msgpack and the text framing), durable SCAN writes (1 and 50 connections)
# and a mix of 90 % GET and 10 % SCAN at 50 connections, with the writer's
# average group commit size over each write row (from STATS). Redis gets the
# same shapes through the same client (bench --framing resp): GET of values
# as large as our GET reply in each framing, SET for SCAN, the same 90/10
# mix of GET and SET.
#
# Order: the host's load drifts over minutes on a shared or virtual machine,
# so every row runs against each server back to back, and the servers'
# order rotates from run to run (row to row, and repetition to repetition),
# so no server is always first or last. The framing is the outer loop: the
# text rows on Redis keys of the text reply's size, then the msgpack rows
# (GET, then the mix and SCAN, the only writes, the mix first so that its
# GETs read the store as loaded) after the keys are set again to the
# msgpack reply's size. After a write run a daemon's data.mdb is synced,
# untimed, so that its pages are not written back under the next server's
# run. `bench-compare.sh --schedule` prints the order (one line a row and
# repetition: ROW|REPETITION|SERVERS) without building or running anything.
# Each run's line goes to stderr as it ends ("bench-compare: run|SERVER|ROW|
# REP/N|rate, p99|page faults|writer groups and jobs|csv BENCH-CSV"), with
# the server's major page faults (a data set pushed out of memory by the
# others shows there) and minor ones (first touches of fresh pages; every
# login's yescrypt adds about 4,100, before bench's clock starts). The table
# is made from those lines alone: per row and server the median run's ops/s
# (and p50/p99) with, when repeated, its min-max; the ratio of our median
# ops/s over Redis's; a last line with the worst ratio.
# `bench-compare.sh --table FILE` prints the same table from a saved stderr
# (FILE "-": stdin; other lines are skipped) without running anything.
#
# Settings (environment):
#   BENCH_WAYBILLS      waybills to load (default 1000000)
#   BENCH_EVENTS        tracking events per waybill, the creation included (10)
#   BENCH_SECS          seconds of each run, for every server (10)
#   BENCH_REPEAT        runs of each row a server (1), interleaved as above;
#                       the table gives the median run's figures (by ops/s;
#                       the lower middle one when even) and, when above 1,
#                       each server's min-max ops/s; errors and groups over
#                       all runs
#   BENCH_LOAD          import (default): the waybills go into the stopped
#                       store through contrib/import, which runs them through
#                       the daemon's own handlers in large transactions;
#                       network: pipelined durable writes (bench --load)
#   BENCH_LOAD_CONNS    loader connections (64); BENCH_LOAD_PIPELINE (2)
#   BENCH_BASELINE_DAEMON  an older parceldeskd measured in the same run (its
#                       rows: "before"). When its build has an import tool
#                       (DIR/contrib/import beside DIR/parceldeskd, or
#                       BENCH_BASELINE_IMPORT), its store is loaded by that
#                       tool, so an older build reads the layout it wrote
#                       (round 6 moved the views into the waybill's value,
#                       which an older build cannot read); without one it
#                       runs on a copy of ours, taken while ours is stopped
#   REDIS_VALUE_BYTES   Redis value size for every row (default: the size of
#                       parceldesk's GET reply in the row's framing, so both
#                       move the same bytes per read)
# Every server started here listens on 127.0.0.1 only and is stopped by PID
# on exit, a failed start included; a start counts once that very process
# listens on its port and answers, else it is stopped and another free port
# tried (3 in all); the temporary directory is removed.
set -euo pipefail

say() { printf '%s\n' "$*" >&2; }
die() { say "bench-compare: $*"; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
waybills=${BENCH_WAYBILLS:-1000000}
events=${BENCH_EVENTS:-10}
secs=${BENCH_SECS:-10}
repeat=${BENCH_REPEAT:-1}
[[ $repeat =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEAT must be a whole number from 1: $repeat"
load_conns=${BENCH_LOAD_CONNS:-64}
load_pipeline=${BENCH_LOAD_PIPELINE:-2}
baseline_daemon=${BENCH_BASELINE_DAEMON:-}
baseline_import=${BENCH_BASELINE_IMPORT:-}
if [[ -n $baseline_daemon && -z $baseline_import && -x $(dirname "$baseline_daemon")/contrib/import ]]; then
	baseline_import=$(dirname "$baseline_daemon")/contrib/import
fi
number_format='%012d'

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
	"mix c50 P1|get:90,scan:10|50|1|msgpack"
	"scan c1 P1|scan:100|1|1|msgpack"
	"scan c50 P1|scan:100|50|1|msgpack"
)
# The servers of the run: pd (this build), base (BENCH_BASELINE_DAEMON), redis.
servers=(pd)
[[ -z $baseline_daemon ]] || servers+=(base)
servers+=(redis)

# The order of the runs, one line a row and repetition: ROW|REP|SERVERS in
# the order they run. Framing outer (Redis's keys are set again between
# them): text first, so that every GET row reads the store as loaded, before
# the SCAN and mix rows add events (and so lengthen the replies); then the
# rows in the table's order, then the repetitions; the servers' order is
# rotated by one at every line.
schedule() {
	local framing t name fr rep i slot=0 k=${#servers[@]} order
	for framing in text msgpack; do
		for t in "${tests[@]}"; do
			IFS='|' read -r name _ _ _ fr <<<"$t"
			[[ $fr == "$framing" ]] || continue
			for ((rep = 1; rep <= repeat; rep++)); do
				order=()
				for ((i = 0; i < k; i++)); do
					order+=("${servers[(slot + i) % k]}")
				done
				printf '%s|%d|%s\n' "$name" "$rep" "${order[*]}"
				slot=$((slot + 1))
			done
		done
	done
}

# The table, from the runs' lines ("bench-compare: run|SERVER|ROW|REP/N|...|
# csv BENCH-CSV", as each run prints them to stderr; every other line is
# skipped), so that a recorded stderr gives the same table (--table FILE):
# a row's figures are its median run's (by ops/s; the lower middle one of an
# even count, a run that happened, so its p50 and p99 go with it), min-max
# its slowest and fastest run (shown when a row ran more than once), the
# ratio our median ops/s over Redis's, and the worst ratio last. A server
# without a run of a row gets "-", as does a ratio without both servers'
# runs or with Redis at 0 ops/s (the worst line names those rows); the
# baseline's columns are there when it ran. Rows in the order of tests.
table_awk=$(cat <<'AWK'
function fail(why) { printf "bench-compare: %s, line %d: %s\n", why, FNR, $0 > "/dev/stderr"; bad = 1; exit 1 }
# the index of a (server, row)'s median run; sets lo and hi (ops/s)
function median(s, r,    k, i, j, x, idx) {
	k = runs[s, r]
	for (i = 1; i <= k; i++) {
		x = i
		for (j = i - 1; j >= 1 && rate[s, r, idx[j]] + 0 > rate[s, r, x] + 0; j--)
			idx[j + 1] = idx[j]
		idx[j + 1] = x
	}
	lo = rate[s, r, idx[1]]; hi = rate[s, r, idx[k]]
	return idx[int((k + 1) / 2)]
}
function col(head, width) { heads[++cols] = head; widths[cols] = width }
function cell(v) { cells[++ncells] = v }
function line(v,    i, out) {
	out = sprintf("%-17s", v[1])
	for (i = 2; i < cols; i++) out = out sprintf(" %" widths[i] "s", v[i])
	print out " " v[cols]
}
# one server's ops/s, min-max (when repeated) and latency columns
function server(s, r, p50too,    m) {
	if (!runs[s, r]) {
		cell("-"); if (repeat > 1) cell("-"); if (p50too) cell("-"); cell("-")
		return
	}
	m = median(s, r)
	cell(rate[s, r, m]); if (repeat > 1) cell(lo "-" hi)
	if (p50too) cell(p50[s, r, m]); cell(p99[s, r, m])
}
function group(s, r) { return groups[s, r] > 0 ? sprintf("%.2f", jobs[s, r] / groups[s, r]) : "-" }
BEGIN {
	n = split(names, known, "|")
	for (i = 1; i <= n; i++) if (known[i] != "") { order[++rows] = known[i]; listed[known[i]] = 1 }
}
index($0, "bench-compare: run|") != 1 { next }
{
	if (NF != 8 || $2 !~ /^(pd|base|redis)$/ || $3 == "" || $4 !~ /^[1-9][0-9]*\/[1-9][0-9]*$/ ||
	    $7 !~ /^writer (-|groups [0-9]+ jobs [0-9]+)$/ || $8 !~ /^csv /)
		fail("not a run line")
	s = $2; r = $3
	split($4, rn, "/"); if (rn[2] + 0 > repeat) repeat = rn[2] + 0
	k = split(substr($8, 5), f, ",")
	if (k != 10 || f[3] !~ /^[0-9]+$/ || f[4] !~ /^[0-9]+$/ || f[5] !~ /^[0-9]+$/ || f[8] !~ /^[0-9]+$/)
		fail("not a bench --csv line")
	m = ++runs[s, r]
	rate[s, r, m] = f[3]; p50[s, r, m] = f[4]; p99[s, r, m] = f[5]
	errors[s, r] += f[8]
	c = split(f[9], codes, ";")
	for (i = 1; i <= c; i++) {
		split(codes[i], kv, "=")
		if (!((s, r, kv[1]) in code)) { code[s, r, kv[1]] = 0; codelist[s, r] = codelist[s, r] (codelist[s, r] == "" ? "" : ";") kv[1] }
		code[s, r, kv[1]] += kv[2]
	}
	if ($7 != "writer -") { split($7, w, " "); groups[s, r] += w[3]; jobs[s, r] += w[5] }
	if (s == "base") base = 1
	if (!(r in has)) { has[r] = 1; if (!(r in listed)) order[++rows] = r }
}
END {
	if (bad) exit 1
	col("test", 17); col("pd ops/s", 9); if (repeat > 1) col("pd min-max", 13); col("p50 us", 7); col("p99 us", 8)
	if (base) { col("before", 9); if (repeat > 1) col("b min-max", 13); col("b p99", 7) }
	col("redis", 9); if (repeat > 1) col("r min-max", 13); col("r p99 us", 8)
	col("pd/redis", 8); col("group", 7); if (base) col("b group", 7); col("errors", 0)
	line(heads)
	for (i = 1; i <= rows; i++) {
		r = order[i]
		if (!(r in has)) continue
		ncells = 0; split("", cells)
		cell(r)
		server("pd", r, 1); pd = runs["pd", r] ? rate["pd", r, median("pd", r)] : ""
		if (base) server("base", r, 0)
		server("redis", r, 0); rd = runs["redis", r] ? rate["redis", r, median("redis", r)] : ""
		why = pd == "" ? "no pd run" : rd == "" ? "no redis run" : rd + 0 == 0 ? "redis 0 ops/s" : ""
		if (why == "") {
			ratio = pd / rd
			cell(sprintf("%.2f", ratio))
			if (worst == "" || ratio < worst) { worst = ratio; worst_row = r }
		} else {
			cell("-")
			none = none (none == "" ? "" : ", ") r " (" why ")"
		}
		cell(group("pd", r)); if (base) cell(group("base", r))
		e = "-"
		if (runs["pd", r]) {
			e = errors["pd", r]
			if (codelist["pd", r] != "") {
				c = split(codelist["pd", r], codes, ";"); e = e " ("
				for (j = 1; j <= c; j++) e = e (j > 1 ? ";" : "") codes[j] "=" code["pd", r, codes[j]]
				e = e ")"
			}
		}
		cell(e)
		line(cells)
	}
	print "scan = SCAN <number> damaged depot=...: a durable write, answered after its group's LMDB commit;" \
		" Redis does SET with appendfsync always; mix = 90 % GET, 10 % SCAN (Redis: GET, SET)."
	if (repeat > 1)
		print "ops/s, p50, p99 = a row's median run on that server (the middle one by ops/s, the lower middle one" \
			" of an even count); min-max = its slowest and fastest run's ops/s; pd/redis = our median ops/s over Redis's."
	else
		print "One run a row on each server; pd/redis = our ops/s over Redis's."
	print "group = writes per commit over the row's runs (b group: before); errors = ours, over all runs." \
		" Redis runs through the same client (bench --framing resp)."
	print "worst pd/redis: " (worst == "" ? "-" : sprintf("%.2f (%s)", worst, worst_row)) (none == "" ? "" : "; no ratio: " none)
}
AWK
)
table() { # FILE ("-": stdin)
	local t name names=""
	for t in "${tests[@]}"; do
		IFS='|' read -r name _ <<<"$t"
		names+="$name|"
	done
	awk -F'|' -v names="$names" "$table_awk" "$1"
}

case ${1:-} in
--schedule) schedule; exit 0 ;;
--table) [[ $# -eq 2 ]] || die "usage: bench-compare.sh --table FILE"; table "$2"; exit ;;
"") ;;
*) die "usage: bench-compare.sh [--schedule | --table FILE] (settings in the environment)" ;;
esac

bench=$root/build/contrib/bench
daemon=$root/build/parceldeskd
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-compare.XXXXXX")
cd "$tmp"
password=bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
server_pids=()
declare -A port pid datadir

cleanup() {
	local p
	for p in "${server_pids[@]}"; do
		kill "$p" 2>/dev/null || continue
		for _ in $(seq 100); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port nothing listens on (a refused connection means free).
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	die "no free port found"
}

# Sends text lines to the daemon and prints every reply line (CR removed);
# the lines end with QUIT so the daemon closes the connection.
pd_talk() (
	p=$1
	shift
	exec 3<>"/dev/tcp/127.0.0.1/$p" || exit 1
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

# Whether process PID itself listens on TCP port PORT: a listening socket
# of that port (/proc/net/tcp, tcp6: state 0A) among PID's descriptors. The
# port is picked free, but another process may take it before the server
# binds it: the server then exits, and until it has, a PING on the port is
# answered by the other one.
listens() { # PID PORT
	local inode fd
	for inode in $(awk -v p="$(printf ':%04X' "$2")" \
		'substr($2, length($2) - 4) == p && $4 == "0A" {print $10}' /proc/net/tcp /proc/net/tcp6 2>/dev/null); do
		for fd in /proc/"$1"/fd/*; do
			[[ $(readlink "$fd" 2>/dev/null) == "socket:[$inode]" ]] && return 0
		done
	done
	return 1
}

# Ready: the server PID listens on PORT itself and answers command.
wait_ready() { # PID PORT what command...
	local p=$1 on=$2 what=$3
	shift 3
	for _ in $(seq 100); do
		kill -0 "$p" 2>/dev/null || return 1
		if listens "$p" "$on" && "$@" 2>/dev/null; then
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

# Drops FILE from the page cache (its dirty pages written first), then
# reads it back with readahead off, so its pages come in one by one.
store_in_single_pages() { # FILE
	python3 - "$1" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.fsync(fd)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
while os.read(fd, 1 << 20):
    pass
PY
}

start_parceldesk() { # WHO DAEMON DATA-DIR
	local who=$1 exe=$2 dir=$3 attempt
	datadir[$who]=$dir
	# The store as a restarted daemon finds it, the same for every build:
	# out of the page cache, then read back in single pages, as this
	# daemon's own start-up pass reads it (store.c): not as the import
	# left it, in folios of 1-64 pages, nor as `cat` reads it, in folios
	# of 2 MiB (durable scans at a third to a half): docs/performance.md,
	# round 14. Read before the
	# daemon opens it, so that its prefault maps every page, and mapped
	# pages stay (this VM's DAMON reclaim takes unmapped page-cache pages a
	# minute after their last use: end of round 13).
	store_in_single_pages "$dir/data.mdb"
	for attempt in 1 2 3; do
		port[$who]=$(free_port)
		# every client of the benchmark comes from one address and logs in
		# at once (a build older than these limits has neither the limits
		# nor the options: its binary does not name them)
		local per_address=(--max-connections-per-address 4096
			--login-concurrent-per-address 4096)
		grep -qa login_concurrent_per_address "$exe" || per_address=()
		PARCELDESK_ADMIN_PASSWORD=$password "$exe" --listen "127.0.0.1:${port[$who]}" \
			--data-dir "$dir" "${per_address[@]}" 2>>"$tmp/$who.log" &
		pid[$who]=$!
		server_pids+=("${pid[$who]}")
		if wait_ready "${pid[$who]}" "${port[$who]}" "$who" pd_pong "${port[$who]}"; then
			pd_mapped "${port[$who]}"
			say "bench-compare: $who ($exe) on 127.0.0.1:${port[$who]}, pid ${pid[$who]}"
			return 0
		fi
		say "bench-compare: $who ($exe) did not start (attempt $attempt):"
		tail -5 "$tmp/$who.log" >&2
		# one still opening the store would hold its lock against the next
		stop_server "${pid[$who]}"
	done
	die "cannot start $exe"
}

start_redis() { # ARGS...
	local attempt
	mkdir -p "$tmp/redis"
	for attempt in 1 2 3; do
		port[redis]=$(free_port)
		redis-server --bind 127.0.0.1 --port "${port[redis]}" --dir "$tmp/redis" \
			--daemonize no --logfile "$tmp/redis.log" "$@" &
		pid[redis]=$!
		server_pids+=("${pid[redis]}")
		if wait_ready "${pid[redis]}" "${port[redis]}" redis-server redis_pong "${port[redis]}"; then
			say "bench-compare: redis on 127.0.0.1:${port[redis]}, pid ${pid[redis]}"
			return 0
		fi
		say "bench-compare: redis-server did not start on 127.0.0.1:${port[redis]} (attempt $attempt):"
		tail -3 "$tmp/redis.log" >&2 || true
		# one that is still up would hold its AOF against the next
		stop_server "${pid[redis]}"
	done
	die "cannot start redis-server"
}

stop_server() { # PID (and out of the list cleanup kills: the number may be reused)
	local p rest=()
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	for p in "${server_pids[@]}"; do
		[[ $p == "$1" ]] || rest+=("$p")
	done
	server_pids=("${rest[@]}")
}

# A server's page faults so far, "MAJOR MINOR" (/proc/PID/stat fields 12
# and 10, counted after the command's closing parenthesis): major = reads
# from disk (a store or data set pushed out of memory by the others), minor
# = pages mapped without one (a fresh map's first touches); each run's line
# gives both.
page_faults() { # SERVER
	sed 's/.*) //' "/proc/${pid[$1]}/stat" 2>/dev/null | awk '{print $10, $8}' | grep . || echo 0 0
}

# One run of bench against a server in mix mode; prints its CSV line. A
# parceldeskd is asked in the row's framing, Redis (get: GET, scan: SET)
# with values of the framing's reply size.
bench_run() { # SERVER MIX CONNECTIONS PIPELINE FRAMING [-n N]
	local who=$1 mix=$2 conns=$3 depth=$4 fr=$5 amount=(-d "$secs")
	[[ -z ${6:-} ]] || amount=("$6" "$7")
	if [[ $who == redis ]]; then
		"$bench" -p "${port[redis]}" --framing resp --value-bytes "${value_bytes[$fr]}" \
			--number-format "$number_format" --number-count "$waybills" \
			--mix "$mix" -c "$conns" -P "$depth" "${amount[@]}" --csv
	else
		"$bench" -p "${port[$who]}" -u admin -a "$password" --framing "$fr" \
			--number-format "$number_format" --number-count "$waybills" \
			--mix "$mix" -c "$conns" -P "$depth" "${amount[@]}" --csv
	fi
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
	}' | redis-cli -h 127.0.0.1 -p "${port[redis]}" --pipe >/dev/null
	# the AOF's gigabytes written back now, not under the rows after
	sync
}

# ---- build ----
say "bench-compare: building"
make -s -C "$root" >/dev/null || die "make failed"
for tool in redis-server redis-cli python3; do
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

# ---- the stores and the servers ----
# Loads a fresh store in DIR with an import tool (the waybills go through
# that build's own handlers, so the store has that build's layout).
pd_import() { # IMPORT DIR
	say "bench-compare: importing $waybills waybills x $events events into a stopped store ($1)"
	rm -rf "$2"
	mkdir -p "$2"
	load_lines | "$1" --data-dir "$2" - 2>"$tmp/import.log" ||
		die "import failed: $(tail -3 "$tmp/import.log")"
}

load_started=$(date +%s)
if [ "${BENCH_LOAD:-import}" = import ]; then
	pd_import "$root/build/contrib/import" "$tmp/parceldesk"
	start_parceldesk pd "$daemon" "$tmp/parceldesk"
	load_ops=$(( waybills * events ))
	load_secs=$(( $(date +%s) - load_started ))
	load_rate=$(( load_ops / (load_secs > 0 ? load_secs : 1) ))
else
	start_parceldesk pd "$daemon" "$tmp/parceldesk"
	say "bench-compare: loading $waybills waybills x $events events over the network"
	"$bench" -p "${port[pd]}" -u admin -a "$password" --framing msgpack \
		--number-format "$number_format" --load "$waybills" --events "$events" \
		-c "$load_conns" -P "$load_pipeline" --timeout 120 --csv >"$tmp/load.csv" ||
		die "loading failed: $(cat "$tmp/load.csv")"
	load_secs=$(( $(date +%s) - load_started ))
	IFS=, read -r load_ops _ load_rate _ <"$tmp/load.csv"
fi

store_bytes=$(pd_store_bytes "${port[pd]}")
store_mb=$(( store_bytes / 1048576 ))
say "bench-compare: loaded $load_ops requests in ${load_secs}s ($load_rate/s); store $store_mb MiB"

if [[ -n $baseline_daemon ]]; then
	if [[ -n $baseline_import ]]; then
		pd_import "$baseline_import" "$tmp/baseline"
	else
		say "bench-compare: copying the store for $baseline_daemon (ours stopped meanwhile)"
		stop_server "${pid[pd]}"
		cp -a "$tmp/parceldesk" "$tmp/baseline"
		start_parceldesk pd "$daemon" "$tmp/parceldesk"
	fi
	start_parceldesk base "$baseline_daemon" "$tmp/baseline"
fi
# No automatic AOF rewrite: setting every key again for the msgpack rows
# would start one (a fork writing the whole data set) during them.
start_redis --save '' --appendonly yes --appendfsync always --auto-aof-rewrite-percentage 0

# ---- the runs ----
declare -A test_of value_bytes
for t in "${tests[@]}"; do
	IFS='|' read -r name _ <<<"$t"
	test_of[$name]=$t
done
# Redis's value size a framing: REDIS_VALUE_BYTES, else our GET reply's
# bytes in that framing (a short run of GETs before the framing's rows).
reply_bytes() { # FRAMING
	if [[ -n ${REDIS_VALUE_BYTES:-} ]]; then
		echo "$REDIS_VALUE_BYTES"
	else
		bench_run pd get:100 1 1 "$1" -n 200 | cut -d, -f10
	fi
}

load_avg=""
framing=""
# (the schedule on fd 4: nothing in the loop can read it from stdin)
while IFS='|' read -r -u 4 name rep order; do
	IFS='|' read -r _ mix conns depth fr <<<"${test_of[$name]}"
	if [[ $fr != "$framing" ]]; then
		framing=$fr
		value_bytes[$fr]=$(reply_bytes "$fr") || die "no GET reply size in $fr"
		redis_fill "${value_bytes[$fr]}"
		[[ -n $load_avg ]] || load_avg=$(cut -d' ' -f1-3 /proc/loadavg)
	fi
	for who in $order; do
		if [[ $who != redis && $mix == *scan* ]]; then
			before=$(pd_writer_stats "${port[$who]}")
		fi
		faults0=$(page_faults "$who")
		line=$(bench_run "$who" "$mix" "$conns" "$depth" "$fr") || die "bench failed on $who $name"
		read -r maj0 min0 maj1 min1 <<<"$faults0 $(page_faults "$who")"
		writer="writer -"
		if [[ $who != redis && $mix == *scan* ]]; then
			after=$(pd_writer_stats "${port[$who]}")
			read -r g0 j0 _ g1 j1 _ <<<"$before $after"
			writer="writer groups $((g1 - g0)) jobs $((j1 - j0))"
			# its store's pages written since its last checkpoint go to
			# disk now, untimed, not under the next server's run (a
			# checkpoint comes only with the next write)
			sync "${datadir[$who]}/data.mdb"
		fi
		# the run's line: read by the table (and by --table from a saved stderr)
		IFS=, read -r _ _ rate _ p99 _ <<<"$line"
		record="bench-compare: run|$who|$name|$rep/$repeat|$rate ops/s, p99 $p99 us"
		record+="|$((maj1 - maj0)) major, $((min1 - min0)) minor page faults|$writer|csv $line"
		say "$record"
		printf '%s\n' "$record" >>"$tmp/runs"
	done
done 4< <(schedule)

pd_rss=$(awk '/^VmRSS:/ {r = $2} /^RssAnon:/ {a = $2} END {printf "%d MiB (anonymous %d MiB)", r / 1024, a / 1024}' \
	"/proc/${pid[pd]}/status")
for who in "${servers[@]}"; do
	stop_server "${pid[$who]}"
done

# ---- table ----
runs_said="one run of each"
((repeat == 1)) || runs_said="$repeat runs of each (the table: the median run, min-max)"
echo
echo "parceldesk $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') vs $(redis-server --version | awk '{sub(/^v=/, "", $3); print $3}'):" \
	"$waybills waybills x $events events (loaded in ${load_secs}s, $load_rate requests/s, store $store_mb MiB," \
	"$(( store_bytes / waybills )) bytes a waybill; daemon RSS after the runs $pd_rss)," \
	"${secs}s a run, $(nproc) CPUs (load average $load_avg before the runs);" \
	"Redis values ${value_bytes[msgpack]} bytes (msgpack rows, SET), ${value_bytes[text]} (text rows)${baseline_daemon:+; before = $baseline_daemon}${baseline_import:+ on a store loaded by $baseline_import};" \
	"every server running throughout, each row run on them back to back in a rotating order," \
	"$runs_said"
table "$tmp/runs"
