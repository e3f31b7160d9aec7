#!/bin/bash
# bench/imaptest.sh SRC [STRESS_SECONDS] - Dovecot's imaptest against talon.
#
# imaptest is no Debian package: this builds it from a checkout of its
# public source given as SRC (its release-2.3 branch; nothing of it is in
# this repository) against Debian 12's dovecot-dev, unpacked privately next
# to the Dovecot of scripts/dovecot-local.sh (nothing installed, no service
# started).  Two fixes the build needs: dovecot-config's paths point at the
# unpacked files, and imap_parser_create() takes 4 arguments in Dovecot
# 2.3.19 (imaptest's release-2.3 passes 3).
#
# Then it starts talon (build/talon) on free loopback ports with the users
# testuser and testuser2 (password "pass"), and runs
#   1. the scripted tests in SRC/src/tests: the summary lines are printed
#      (groups failed, commands failed, groups skipped for capabilities we
#      do not offer) with each failure's first lines;
#   2. with STRESS_SECONDS (e.g. 600), the stress mode for that long on a
#      generated mbox with unique Message-IDs, 10 clients: the "Error:" lines
#      are counted (imaptest's exit status is 0 regardless) and its last
#      totals line is printed as the throughput figure.
# imaptest has no STARTTLS: it talks to the implicit-TLS listener with
# ssl=any-cert.  It loads its SSL module from /usr/lib/dovecot/modules, a
# path compiled into libdovecot: when that directory does not exist, a
# symlink to the unpacked one is made for the run and removed after.
# Prints key=value lines; asserts nothing.  Root only (packages).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SRC=${1:-}
STRESS=${2:-0}
[ -n "$SRC" ] && [ -d "$SRC/src" ] || die "usage: bench/imaptest.sh IMAPTEST_SOURCE_DIR [STRESS_SECONDS]"
SRC=$(cd "$SRC" && pwd)
need_root
lock imaptest
W="$BENCH_TMP/imaptest"
mkdir -p "$W"

for p in autoconf automake libtool make gcc; do
	dpkg -s "$p" >/dev/null 2>&1 || apt-get install -y -q --no-install-recommends "$p" >&2
done
[ -x "$REPO_DIR/build/talon" ] || make -C "$REPO_DIR" build/talon >&2
"$REPO_DIR/scripts/dovecot-local.sh" >/dev/null
DOVE="${DOVECOT_LOCAL:-/var/cache/talon-dovecot}/root"
[ -d "$DOVE/usr/lib/dovecot" ] || die "no unpacked Dovecot in $DOVE"

# --- build ---------------------------------------------------------------------
if [ ! -x "$W/src/src/imaptest" ]; then
	(cd "$W" && rm -f dovecot-dev_*.deb && apt-get download dovecot-dev >&2) ||
		{ apt-get update >&2 && (cd "$W" && apt-get download dovecot-dev >&2); }
	rm -rf "$W/dev" "$W/src"
	dpkg -x "$W"/dovecot-dev_*.deb "$W/dev"
	sed -e "s#-L/usr/lib/dovecot#-L$DOVE/usr/lib/dovecot#" \
	    -e "s#-I/usr/include/dovecot#-I$W/dev/usr/include/dovecot#" \
	    -e "s#=/usr/include/dovecot#=$W/dev/usr/include/dovecot#" \
	    -e "s#-flto=auto -ffat-lto-objects##" \
	    "$W/dev/usr/lib/dovecot/dovecot-config" > "$W/dovecot-config"
	cp -a "$SRC" "$W/src"
	rm -rf "$W/src/.git"
	sed -i 's/imap_parser_create(\([^;]*\), (size_t)-1);/imap_parser_create(\1, (size_t)-1, NULL);/' \
		"$W"/src/src/*.c
	(cd "$W/src" && ./autogen.sh && ./configure --with-dovecot="$W" && make -j2) >"$W/build.log" 2>&1 ||
		die "imaptest did not build: see $W/build.log"
fi
IMAPTEST="$W/src/src/imaptest"
export LD_LIBRARY_PATH="$DOVE/usr/lib/dovecot"

RUN="$W/run"
TALON_PID=""
cleanup() {
	set +e
	[ -n "$TALON_PID" ] && kill "$TALON_PID" 2>/dev/null && wait "$TALON_PID" 2>/dev/null
	dovecot_lib_unlink
	true
}
trap cleanup EXIT INT TERM
dovecot_lib_link "$DOVE/usr/lib/dovecot"

# --- talon -------------------------------------------------------------------------
rm -rf "$RUN"
mkdir -p "$RUN"
imaptest_cert "$RUN"
SMTP=$(free_port) IMAPS=$(free_port)
imaptest_talon_conf "$RUN" "$SMTP" "$IMAPS"
(cd "$RUN" && exec "$REPO_DIR/build/talon" serve -c talon.conf >talon.log 2>&1) &
TALON_PID=$!
wait_port "$IMAPS" 20 || die "talon did not start: $RUN/talon.log"
sleep 1	# the auth process reads the users file

# --- 1. scripted tests -------------------------------------------------------------------
"$IMAPTEST" host=127.0.0.1 port="$IMAPS" ssl=any-cert user=testuser pass=pass \
	test="$SRC/src/tests" >"$W/scripted.txt" 2>&1 || true
groups=$(grep -E "^[0-9]+ test groups:" "$W/scripted.txt" || echo "n/a")
printf 'scripted %s\n' "$groups"
grep -E "^(base protocol|extensions):" "$W/scripted.txt" | sed 's/^/scripted /' || true
awk '/^\*\*\* Test/ { show = 3 } show > 0 && !/Unexpected disconnection/ { print "  " substr($0, 1, 200); show-- }' \
	"$W/scripted.txt" | head -n 60

# --- 2. stress -----------------------------------------------------------------------------
if [ "$STRESS" -gt 0 ]; then
	MBOX="$W/stress.mbox"
	imaptest_stress_mbox "$MBOX"
	timeout $((STRESS + 120)) "$IMAPTEST" host=127.0.0.1 port="$IMAPS" ssl=any-cert \
		user=testuser pass=pass mbox="$MBOX" clients=10 secs="$STRESS" \
		>"$W/stress.txt" 2>&1 || true
	printf 'stress seconds=%s errors=%s\n' "$STRESS" "$(grep -c '^Error:' "$W/stress.txt" || true)"
	printf 'stress totals %s\n' "$(imaptest_totals "$W/stress.txt")"
fi
say "imaptest: output in $W/scripted.txt${STRESS:+ and $W/stress.txt}"
