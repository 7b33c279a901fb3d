#!/bin/sh
# deb.sh — builds the Debian package from a copy of the tree in a scratch
# directory (dpkg-buildpackage -us -uc -b), unpacks it with dpkg -x and
# checks the layout, the conffile, the systemd unit (systemd-analyze verify)
# and what postinst does (run against the scratch root with DPKG_ROOT, the
# system tools it calls replaced by stubs that only record their arguments).
# Prints "ok ..." / "FAIL ..." lines and ends with "N passed, M failed";
# exit 77 after one "SKIP" line when the Debian tools are missing.
set -u
cd "$(dirname "$0")/.."
if ! command -v dpkg-buildpackage >/dev/null 2>&1 ||
	! dpkg-query -W -f='${Status}' debhelper 2>/dev/null | grep -q "install ok installed"; then
	echo "SKIP debian-package: dpkg-buildpackage or debhelper not installed (sh contrib/deps.sh test installs them)"
	exit 77
fi
passed=0
failed=0
check() { # check NAME COMMAND...
	name=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "ok deb: $name"
		passed=$((passed + 1))
	else
		echo "FAIL deb: $name"
		failed=$((failed + 1))
	fi
}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/src" "$scratch/root"
# the files git knows (committed or not), without build output
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$scratch/src"
else
	tar --exclude=./build -cf - . | tar -xf - -C "$scratch/src"
fi
if ! (cd "$scratch/src" && DEB_BUILD_OPTIONS="parallel=2 nocheck" dpkg-buildpackage -us -uc -b) >"$scratch/build.log" 2>&1; then
	tail -n 40 "$scratch/build.log"
	echo "FAIL deb: dpkg-buildpackage"
	echo "0 passed, 1 failed"
	exit 1
fi
version=$(cat VERSION)
deb=$(ls "$scratch"/parceldesk_"$version"_*.deb 2>/dev/null | head -n 1)
check "dpkg-buildpackage made parceldesk_${version}_ARCH.deb" test -f "$deb"
[ -f "$deb" ] || { echo "$passed passed, $((failed)) failed"; exit 1; }
r=$scratch/root
dpkg -x "$deb" "$r"
dpkg-deb -e "$deb" "$scratch/control"

check "daemon in /usr/sbin" test -x "$r/usr/sbin/parceldeskd"
check "client in /usr/bin" test -x "$r/usr/bin/parceldesk"
check "daemon --version is VERSION" sh -c "'$r/usr/sbin/parceldeskd' --version | grep -qx 'parceldeskd $version'"
check "client --version is VERSION" sh -c "'$r/usr/bin/parceldesk' --version | grep -qx 'parceldesk $version'"
check "man pages" test -f "$r/usr/share/man/man8/parceldeskd.8.gz" -a -f "$r/usr/share/man/man1/parceldesk.1.gz"
comp=$r/usr/share/bash-completion/completions/parceldesk
check "bash completion for the client" test -f "$comp"
check "... and it completes a command" \
	bash -c 'source "$1"; COMP_WORDS=(parceldesk WAYB); COMP_CWORD=1; _parceldesk; [ "${COMPREPLY[*]}" = WAYBILL ]' bash "$comp"
conf=$r/etc/parceldesk/parceldeskd.conf
check "config in /etc/parceldesk" test -f "$conf"
check "config is a conffile" grep -qx /etc/parceldesk/parceldeskd.conf "$scratch/control/conffiles"
check "config keeps the data in /var/lib/parceldesk" grep -q '^data_dir = /var/lib/parceldesk ' "$conf"
check "config reads the postinst's password file" \
	grep -q '^admin_password_file = /etc/parceldesk/admin-password' "$conf"
check "the packaged config is accepted by the daemon" \
	sh -c "'$r/usr/sbin/parceldeskd' --config '$conf' --listen 127.0.0.1:0x --data-dir /nonexistent 2>&1 | grep -q 'listen must be HOST:PORT'"
check "/var/lib/parceldesk is 0750" sh -c "[ \"\$(stat -c %a '$r/var/lib/parceldesk')\" = 750 ]"
unit=$(ls "$r"/lib/systemd/system/parceldesk.service "$r"/usr/lib/systemd/system/parceldesk.service 2>/dev/null | head -n 1)
check "systemd unit installed" test -f "$unit"
for k in Type=notify "ExecReload=/bin/kill -HUP \$MAINPID" ProtectSystem=strict \
	ReadWritePaths=/var/lib/parceldesk NoNewPrivileges=yes PrivateTmp=yes User=parceldesk \
	"ExecStart=/usr/sbin/parceldeskd --config /etc/parceldesk/parceldeskd.conf"; do
	check "unit has $k" grep -qxF "$k" "$unit"
done
check "the daemon links libsystemd (sd_notify for Type=notify)" \
	sh -c "objdump -p '$r/usr/sbin/parceldeskd' | grep -q 'NEEDED.*libsystemd'"
if command -v systemd-analyze >/dev/null 2>&1; then
	# verify looks for ExecStart's and ExecReload's programs, the targets
	# named and the man page in --root: give it this system's units and
	# kill beside the package's files. It exits 0 on a mere warning (an
	# unknown key, a bad value), so any output fails too.
	mkdir -p "$r/bin" "$r/lib/systemd/system"
	cp /bin/kill "$r/bin/kill"
	cp -a /lib/systemd/system/. "$r/lib/systemd/system/" 2>/dev/null
	if MANPATH="$r/usr/share/man" systemd-analyze verify --root="$r" "$unit" >"$scratch/verify.log" 2>&1 &&
		[ ! -s "$scratch/verify.log" ]; then
		echo "ok deb: systemd-analyze verify"
		passed=$((passed + 1))
	else
		cat "$scratch/verify.log"
		echo "FAIL deb: systemd-analyze verify"
		failed=$((failed + 1))
	fi
else
	echo "SKIP deb: systemd-analyze verify (systemd not installed)"
fi

# postinst and postrm against the scratch root
stubs=$scratch/stubs
mkdir "$stubs"
for t in adduser chown deb-systemd-helper deb-systemd-invoke systemctl; do
	printf '#!/bin/sh\necho "%s $*" >> "%s/calls"\n' "$t" "$scratch" > "$stubs/$t"
	chmod +x "$stubs/$t"
done
mkdir -p "$r/run"
runscript() { DPKG_ROOT="$r" PATH="$stubs:$PATH" sh "$scratch/control/$1" "$2" ${3:-} 2>>"$scratch/maint.log"; }
check "postinst configure runs" runscript postinst configure
pw=$r/etc/parceldesk/admin-password
check "postinst makes the system user" grep -q '^adduser --system --group .*parceldesk$' "$scratch/calls"
check "postinst gives /var/lib/parceldesk to parceldesk" grep -qx "chown parceldesk:parceldesk $r/var/lib/parceldesk" "$scratch/calls"
check "postinst makes a 0600 admin password file" sh -c "[ \"\$(stat -c %a '$pw')\" = 600 ]"
check "the password is long enough for the daemon (8 bytes)" sh -c "[ \$(head -n 1 '$pw' | wc -c) -gt 16 ]"
check "postinst gives the password file to parceldesk" grep -q "^chown parceldesk:parceldesk $pw" "$scratch/calls"
first=$(cat "$pw")
rm -f "$pw"
touch "$r/var/lib/parceldesk/data.mdb"
check "an upgrade with a store makes no new password file" runscript postinst configure 0.0.9
check "... and none is there" test ! -e "$pw"
echo "$first" > "$pw"
check "postrm purge runs" runscript postrm purge
check "purge removes the password file" test ! -e "$pw"
check "purge keeps the store" test -e "$r/var/lib/parceldesk/data.mdb"

# make install/uninstall, for systems without dpkg: the tree the package was
# built from installs into a scratch DESTDIR, and uninstall leaves no file
mi=$scratch/make-install
check "make install" make -C "$scratch/src" install PREFIX=/usr/local DESTDIR="$mi"
check "... the daemon, client, man pages and completion" test -x "$mi/usr/local/sbin/parceldeskd" \
	-a -x "$mi/usr/local/bin/parceldesk" -a -f "$mi/usr/local/share/man/man8/parceldeskd.8" \
	-a -f "$mi/usr/local/share/bash-completion/completions/parceldesk"
check "make uninstall" make -C "$scratch/src" uninstall PREFIX=/usr/local DESTDIR="$mi"
check "... leaves no file behind" sh -c "[ -z \"\$(find '$mi' -type f)\" ]"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
