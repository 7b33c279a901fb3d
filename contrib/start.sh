#!/bin/sh
# start.sh — build parceldesk and start the daemon in the foreground on an
# embedded LMDB data directory. On first start the directory is created with
# a small sample of waybills, and an admin password is made and printed.
#   PARCELDESK_DATA   data directory (default ./parceldesk-data)
#   PARCELDESK_LISTEN HOST:PORT (default 127.0.0.1:7420)
#   --fresh           remove the data directory first
set -eu
cd "$(dirname "$0")/.."
sh contrib/deps.sh build
make -j2 >/dev/null
data=${PARCELDESK_DATA:-./parceldesk-data}
listen=${PARCELDESK_LISTEN:-127.0.0.1:7420}
pwfile="$data.admin-password"
if [ "${1:-}" = "--fresh" ]; then
	rm -rf "$data" "$pwfile"
fi
if [ ! -d "$data" ]; then
	echo "parceldesk: new data directory $data with sample waybills" >&2
	sh contrib/sample-data.sh "$data"
fi
if [ -z "${PARCELDESK_ADMIN_PASSWORD:-}" ]; then
	if [ ! -f "$pwfile" ]; then
		umask 077
		head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$pwfile"
	fi
	echo "parceldesk: admin password is in $pwfile" >&2
fi
set -- --listen "$listen" --data-dir "$data"
if [ -z "${PARCELDESK_ADMIN_PASSWORD:-}" ]; then
	set -- "$@" --admin-password-file "$pwfile"
fi
build/parceldeskd "$@" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid; exit $?' INT TERM
# "listening" only once the daemon answers on its port
while ! build/parceldesk -h "${listen%:*}" -p "${listen##*:}" ping >/dev/null 2>&1; do
	if ! kill -0 $pid 2>/dev/null; then
		wait $pid
		exit $?
	fi
	sleep 0.1
done
echo "parceldesk: listening on $listen — try: build/parceldesk -p ${listen##*:} -u admin -P \"\$(cat $pwfile)\"" >&2
wait $pid
