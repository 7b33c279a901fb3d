#!/bin/sh
# run.sh — every test of parceldesk: unit tests (cmocka), the check that
# no files depend on each other in a circle, the fuzz targets briefly (the
# parser for a number of runs, the store and the connections for 20 s
# each), and the end-to-end suite against a real daemon — all built with
# -Werror under AddressSanitizer and UndefinedBehaviorSanitizer. Ends with
# one line "N passed, M failed".
set -u
cd "$(dirname "$0")/.."
sh contrib/deps.sh test || exit 1
SAN="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
B=build/san
make -j2 BUILD=$B CFLAGS="$SAN" all unit || { echo "0 passed, 1 failed"; exit 1; }
make -j2 BUILD=$B fuzz || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log" "${deblog:-}"; rm -rf "$fuzzdir"' EXIT

run_unit() { # TEST-BINARY
	if "$1" >"$log" 2>&1; then status=ok; else status=FAIL; fi
	n_ok=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	n_bad=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	n_ok=${n_ok:-0}
	n_bad=${n_bad:-0}
	if [ $status = FAIL ] && [ "$n_bad" = 0 ]; then n_bad=1; fi
	passed=$((passed + n_ok))
	failed=$((failed + n_bad))
	echo "$status ${2:-}$(basename "$1"): $n_ok passed, $n_bad failed"
	[ $status = ok ] || cat "$log"
}

echo "== unit tests"
for t in $B/tests/test_*; do
	[ -x "$t" ] || continue
	run_unit "$t"
done
# conn_heap_trim() works on glibc's allocator, which the sanitizers
# replace (there its test skips): it runs from a plain build too
if make -j2 build/tests/test_heap_trim >"$log" 2>&1; then
	run_unit build/tests/test_heap_trim "(plain build) "
else
	cat "$log"
	failed=$((failed + 1))
fi
# test_prefault imports a store of 10,000 waybills: the plain build's
# import takes a second where the sanitizers' takes minutes; test_map_limit
# runs a daemon under an address-space limit, which ASan's cannot start under
if make -j2 build/contrib/gen build/contrib/import build/parceldeskd >"$log" 2>&1; then
	export PD_STORE_TOOLS="$PWD/build/contrib"
	export PD_PLAIN_DAEMON="$PWD/build/parceldeskd"
else
	cat "$log"
	failed=$((failed + 1))
fi

echo "== PROTOCOL.md documents every command of the table"
missing=$(sed -n 's/^CMD([a-z_]*, "\([A-Z]*\)", \(NULL\|"\([A-Z]*\)"\).*/\1 \3/p' protocol/commands.def |
	sed 's/ $//' | while read -r name; do
		grep -qF "### \`$name\`" protocol/PROTOCOL.md || echo "$name"
	done)
count=$(grep -c '^CMD(' protocol/commands.def)
if [ -z "$missing" ] && [ "$count" -gt 0 ]; then
	echo "ok protocol-doc: $count commands documented"
	passed=$((passed + 1))
else
	echo "FAIL protocol-doc: not in PROTOCOL.md: $missing"
	failed=$((failed + 1))
fi

echo "== no include or call cycle between files"
if sh contrib/check-includes.sh $B >"$log" 2>&1; then
	echo "ok check-includes: $(tail -n 1 "$log")"
	passed=$((passed + 1))
else
	echo "FAIL check-includes"
	cat "$log"
	failed=$((failed + 1))
fi

echo "== tabs for indent in C sources"
spaced=$(grep -rnE '^ {2,}[^ *]' --include='*.c' --include='*.h' --include='*.def' \
	protocol daemon client contrib tests | head -n 20)
if [ -z "$spaced" ]; then
	echo "ok tabs: no C line is indented with spaces"
	passed=$((passed + 1))
else
	echo "FAIL tabs: indented with spaces:"
	echo "$spaced"
	failed=$((failed + 1))
fi

# fuzz NAME CORPUS OPTIONS...: runs build/san/NAME on a scratch copy of
# CORPUS (so the corpus in the tree is not rewritten); the daemon's own log
# lines are left out of a failure's report
fuzz() {
	name=$1 corpus=$2
	shift 2
	rm -rf "$fuzzdir"
	fuzzdir=$(mktemp -d)
	cp "$corpus"/* "$fuzzdir"/ 2>/dev/null
	if $B/$name "$@" "$fuzzdir" >"$log" 2>&1; then
		echo "ok $name: $(grep -o 'Done [0-9]* runs.*' "$log")"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		grep -v '^20[0-9][0-9]-' "$log" | tail -n 40
		failed=$((failed + 1))
	fi
}
fuzzdir=

echo "== fuzz: request parser"
fuzz fuzz_request tests/fuzz/corpus -runs=${FUZZ_RUNS:-300000} -max_len=4096

echo "== fuzz: change sets (the replication and write-ahead log reader)"
fuzz fuzz_changeset tests/fuzz/corpus_changeset -runs=${FUZZ_RUNS:-300000} -max_len=4096

echo "== fuzz: command sequences against a store"
fuzz fuzz_store tests/fuzz/corpus_store -max_total_time=${FUZZ_STORE_SECS:-20} -max_len=8192

echo "== fuzz: byte streams through the connection handling"
fuzz fuzz_conn tests/fuzz/corpus_conn -max_total_time=${FUZZ_CONN_SECS:-20} -max_len=4096

# the Debian package builds (-O2, in a scratch copy) while the end-to-end
# suite, which mostly waits on fsync, runs
deblog=$(mktemp)
sh tests/deb.sh >"$deblog" 2>&1 &
debpid=$!

echo "== end-to-end"
/usr/bin/python3 tests/e2e/run_e2e.py --daemon $B/parceldeskd --client $B/parceldesk >"$log" 2>&1
e2e_rc=$?
cat "$log"
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
e_ok=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
e_bad=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
e_ok=${e_ok:-0}
e_bad=${e_bad:-0}
if [ $e2e_rc -ne 0 ] && [ "$e_bad" = 0 ]; then e_bad=1; fi
passed=$((passed + e_ok))
failed=$((failed + e_bad))

echo "== Debian package (tests/deb.sh)"
wait $debpid
deb_rc=$?
cat "$deblog"
if [ $deb_rc -ne 77 ]; then
	d_ok=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$deblog" | tail -n 1)
	d_bad=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$deblog" | tail -n 1)
	d_ok=${d_ok:-0}
	d_bad=${d_bad:-0}
	if [ $deb_rc -ne 0 ] && [ "$d_bad" = 0 ]; then d_bad=1; fi
	passed=$((passed + d_ok))
	failed=$((failed + d_bad))
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
