#!/bin/sh
# scripts/dovecot-local.sh: a private Dovecot for the tests, extracted from
# Debian's packages, never installed: no service, no listener, nothing
# written outside the cache directory but each session's temporary index
# directory (removed when it ends).  The tests use it as an independent oracle
# for what Talon leaves in a Maildir (dovecot-uidlist, dovecot-keywords,
# flags in file names, Maildir++ folders).
#
#   scripts/dovecot-local.sh      -> prints the path of DIR/imap-preauth
#   DIR/imap-preauth MAILDIR      -> Dovecot's imap on stdin/stdout, with a
#                                    "* PREAUTH" greeting, on that Maildir
#
# DIR is /var/cache/talon-dovecot, or $DOVECOT_LOCAL.  The first run fetches
# dovecot-core and dovecot-imapd (and those of their library packages that
# are not installed) with `apt-get download` and unpacks them with
# `dpkg -x`; later runs find them there and only rewrite the two small
# files (well under a second).  stdout carries the path and nothing
# else: everything apt says goes to stderr.
set -eu

DIR=${DOVECOT_LOCAL:-/var/cache/talon-dovecot}
PKGS="dovecot-core dovecot-imapd"
# Raise when the layout below changes, so old caches are redone.
FORMAT=1

die() {
	echo "dovecot-local: $*" >&2
	exit 1
}

need() {
	command -v "$1" >/dev/null 2>&1 || die "$1 is missing ($2)"
}

need apt-get "Debian's apt"
need dpkg-deb "Debian's dpkg"
need flock "util-linux"
need ldd "libc-bin"

mkdir -p "$DIR" 2>/dev/null ||
	die "cannot create $DIR; run as root or set DOVECOT_LOCAL=/some/dir"
DIR=$(cd "$DIR" && pwd)
# the wrapper quotes it in single quotes
case "$DIR" in *\'*) die "$DIR: a quote in the path is not supported" ;; esac
[ -w "$DIR" ] || die "$DIR is not writable; run as root or set DOVECOT_LOCAL=/some/dir"
ROOT=$DIR/root
STAMP=$DIR/extracted

# Library directories inside the extraction, in the order the loader
# should search them: Dovecot's own libraries, then the library packages
# fetched because the machine lacks them.
libpath() {
	p=$ROOT/usr/lib/dovecot
	for d in "$ROOT"/usr/lib/*-linux-gnu* "$ROOT"/lib/*-linux-gnu*; do
		[ -d "$d" ] && p=$p:$d
	done
	echo "$p"
}

# The binaries we run must find every library: in the extraction or on
# the machine.  Run after an extraction and on every quick path, so a
# library removed from the machine since is named, not a mystery crash.
check_libs() {
	lp=$(libpath)
	for b in "$ROOT/usr/lib/dovecot/imap" "$ROOT/usr/bin/doveconf"; do
		[ -x "$b" ] || return 1
		if LD_LIBRARY_PATH=$lp ldd "$b" | grep -q "not found"; then
			echo "dovecot-local: $b lacks libraries:" >&2
			LD_LIBRARY_PATH=$lp ldd "$b" | grep "not found" >&2
			return 1
		fi
	done
}

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# apt-get download, with `apt-get update` first only when the lists are
# stale (a fresh machine has none).  Output to stderr: stdout is ours.
fetch() {
	if apt-get download "$@" >&2; then
		return 0
	fi
	[ "$(id -u)" = 0 ] ||
		die "apt-get download $* failed; as root run: apt-get update"
	echo "dovecot-local: apt-get download failed; running apt-get update" >&2
	apt-get update -q >&2 || die "apt-get update failed"
	apt-get download "$@" >&2 || die "apt-get download $* failed"
}

# The library packages (lib*) the .deb files in $1 depend on and the
# machine does not have.  Version constraints and alternatives after the
# first are dropped: an extracted library only has to satisfy the loader,
# and check_libs verifies that it does.
missing_libs() {
	for deb in "$1"/*.deb; do
		dpkg-deb -f "$deb" Depends
	done | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/:any//' -e 's/[[:space:]]//g' |
		grep '^lib' | sort -u | while read -r p; do
			installed "$p" || echo "$p"
		done
}

extract() {
	work=$(mktemp -d "$DIR/dl.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	# apt as root downloads as _apt when it can write the directory,
	# and warns otherwise
	if [ "$(id -u)" = 0 ] && getent passwd _apt >/dev/null 2>&1; then
		chown _apt "$work"
	fi
	# shellcheck disable=SC2086 # lists of package names, split on purpose
	(cd "$work" && fetch $PKGS)
	libs=$(missing_libs "$work")
	if [ -n "$libs" ]; then
		echo "dovecot-local: also fetching libraries not installed here:" \
			"$(echo "$libs" | tr '\n' ' ')" >&2
		# shellcheck disable=SC2086
		(cd "$work" && fetch $libs)
	fi
	rm -rf "$ROOT"
	mkdir "$work/root"
	for deb in "$work"/*.deb; do
		dpkg -x "$deb" "$work/root" || die "dpkg -x $deb failed"
	done
	mv "$work/root" "$ROOT"
	check_libs || die "the extracted Dovecot cannot run (libraries above)"
	version=$(dpkg-deb -f "$(ls "$work"/dovecot-core_*.deb)" Version)
	printf 'format %s\ndovecot-core %s\n' "$FORMAT" "$version" >"$STAMP"
	rm -rf "$work"
	trap - EXIT
}

# The settings every session shares.  Only what Dovecot cannot guess in a
# directory of its own: no daemon (so no listeners, no auth, no ssl), logs
# to stderr, and a namespace whose separator is Talon's "/" so that folder
# names read the same on both sides (on disk Maildir++ keeps ".").
# mail_location comes per session from the wrapper.
write_conf() {
	cat >"$DIR/dovecot.conf.tmp" <<EOF
# written by scripts/dovecot-local.sh; rewritten on every run
base_dir = $DIR/run
state_dir = $DIR/run
log_path = /dev/stderr
ssl = no
protocols = imap
# the Maildir's owner (see imap-preauth) may be a system user, its
# group root's (a directory made by root and chowned to a user)
first_valid_uid = 1
first_valid_gid = 0
mail_plugins =
namespace inbox {
  inbox = yes
  separator = /
  prefix =
}
EOF
	mv "$DIR/dovecot.conf.tmp" "$DIR/dovecot.conf"
	mkdir -p "$DIR/run"
}

# The wrapper.  Dovecot's imap binary reads its settings by running
# doveconf from the path it was built with (/usr/bin/doveconf), which is
# not on this machine: so we run our doveconf, which puts the settings
# in the environment and execs imap ("-e").  Run without a master process
# and with stdin not a socket, imap speaks IMAP on stdin/stdout with the
# user logged in (PREAUTH).  Dovecot refuses mail access as root: as root
# the session runs as the Maildir's owner (mail_uid), which must not be
# root.  The index files go to a private temporary directory (removed
# afterwards), unless DOVECOT_INDEX_DIR names one to keep; the control
# files (dovecot-uidlist, dovecot-keywords) stay in the Maildir.
write_wrapper() {
	cat >"$DIR/imap-preauth.tmp" <<EOF
#!/bin/sh
# imap-preauth MAILDIR: written by scripts/dovecot-local.sh (do not edit).
set -eu
D='$DIR'
LP='$(libpath)'
EOF
	cat >>"$DIR/imap-preauth.tmp" <<'EOF'
die() {
	echo "imap-preauth: $*" >&2
	exit 1
}
[ $# -eq 1 ] || die "usage: imap-preauth MAILDIR"
[ -d "$1" ] || die "$1: no such directory"
md=$(cd "$1" && pwd)
# ':' separates the parts of a mail_location
case "$md" in *:*) die "$md: a ':' in the path cannot be given to Dovecot" ;; esac
[ -x "$D/root/usr/lib/dovecot/imap" ] || die "no Dovecot in $D; run scripts/dovecot-local.sh"
set --
if [ "$(id -u)" = 0 ]; then
	uid=$(stat -c %u "$md")
	gid=$(stat -c %g "$md")
	[ "$uid" != 0 ] ||
		die "$md belongs to root, and Dovecot refuses mail access as root: chown it"
	set -- -o "mail_uid=$uid" -o "mail_gid=$gid"
	user=$(getent passwd "$uid" | cut -d: -f1)
else
	uid=$(id -u)
	gid=$(id -g)
	user=$(id -un)
fi
[ -n "$user" ] || user=u$uid
if [ -n "${DOVECOT_INDEX_DIR:-}" ]; then
	idx=$DOVECOT_INDEX_DIR
	mkdir -p "$idx"
else
	idx=$(mktemp -d "${TMPDIR:-/tmp}/imap-preauth.XXXXXX")
	trap 'rm -rf "$idx"' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
fi
[ "$(id -u)" = 0 ] && chown "$uid:$gid" "$idx"
rc=0
env -i PATH=/usr/bin:/bin USER="$user" HOME="$idx" LD_LIBRARY_PATH="$LP" \
	"$D/root/usr/bin/doveconf" -c "$D/dovecot.conf" -f service=imap -m imap \
	-e "$D/root/usr/lib/dovecot/imap" "$@" \
	-o "mail_location=maildir:$md:INDEX=$idx/index" || rc=$?
exit "$rc"
EOF
	chmod 755 "$DIR/imap-preauth.tmp"
	mv "$DIR/imap-preauth.tmp" "$DIR/imap-preauth"
}

# One setup at a time: two test runs starting together on a fresh
# machine would otherwise unpack over each other.
exec 9>"$DIR/.lock"
flock 9
if ! grep -qx "format $FORMAT" "$STAMP" 2>/dev/null || ! check_libs 2>/dev/null; then
	echo "dovecot-local: extracting $PKGS into $ROOT" >&2
	extract
fi
write_conf
write_wrapper
echo "$DIR/imap-preauth"
