#!/bin/sh
# sample-data.sh — fill a stopped daemon's data directory with a small,
# reproducible sample: 200 waybills (seed 1) created over the last five days,
# with their tracking history up to now (some still on their way, some late,
# some with failed deliveries, holds, damage, losses and returns).
#
#   contrib/sample-data.sh DATA_DIR
#
# Uses build/contrib/gen and build/contrib/import (run `make` first). The
# daemon must not be running on DATA_DIR; start it afterwards. The numbers
# are 000000000001 .. 000000000200; every line carries a req= token, so
# running the script again on the same day adds nothing twice (the repeats
# are answered from the idempotency store).
set -eu

if [ $# -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
	echo "usage: $0 DATA_DIR" >&2
	exit 2
fi
data_dir=$1
root=$(cd "$(dirname "$0")/.." && pwd)
gen=$root/build/contrib/gen
import=$root/build/contrib/import
for tool in "$gen" "$import"; do
	if [ ! -x "$tool" ]; then
		echo "$0: $tool is missing: run make in $root first" >&2
		exit 2
	fi
done

# the generator's days are in +08:00, like the depots' clocks
start=$(TZ=Asia/Shanghai date -d '4 days ago' +%Y-%m-%d)
"$gen" --seed 1 --waybills 200 --start-date "$start" --days 5 \
	--exception-share 15 --late-share 10 --customers 20 --req-tokens |
	"$import" --data-dir "$data_dir" -
