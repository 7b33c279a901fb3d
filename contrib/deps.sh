#!/bin/sh
# deps.sh PROFILE — make sure the Debian 12 packages parceldesk needs are
# installed. PROFILE is `build` (daemon and client) or `test` (everything the
# tests need as well). As root it installs what is missing; otherwise it
# prints the one apt-get line to run and fails.
set -eu
profile=${1:-build}
pkgs="gcc make pkg-config libc6-dev libevent-dev libssl-dev liblmdb-dev libmsgpack-dev libedit-dev libcrypt-dev libsystemd-dev libnats-dev"
if [ "$profile" = test ]; then
	pkgs="$pkgs clang libclang-rt-14-dev libcmocka-dev python3 python3-msgpack python3-lmdb openssl"
	# tests/deb.sh: build the Debian package, verify its systemd unit
	pkgs="$pkgs dpkg-dev debhelper fakeroot adduser systemd"
	# tests/e2e/test_replication.py: a three-node JetStream cluster;
	# test_repl_faults.py: ip netns for a partition
	pkgs="$pkgs nats-server iproute2"
fi
if [ "$profile" = bench ]; then
	pkgs="$pkgs redis-server redis-tools python3"
fi
missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "parceldesk: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	# shellcheck disable=SC2086
	apt-get install -y -qq $missing >&2
	# redis is a benchmark yardstick here, not a service to keep running
	if [ "$profile" = bench ] && command -v systemctl >/dev/null 2>&1; then
		systemctl disable --now redis-server >/dev/null 2>&1 || true
	fi
else
	echo "parceldesk: missing Debian packages. Run as root:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
