#!/bin/sh
# Install what Talon needs to build, run its demo and run its tests, when it
# is missing, and create the system users the daemon's children run as.
# Debian bookworm; run as root (there is no sudo on our machines).
set -eu

BUILD="build-essential pkg-config clang libclang-rt-14-dev libssl-dev libcrypt-dev"
# Later parts of Talon (resolver, greylisting, DMARC, IMAP) use these.
LIBS="libunbound-dev libsqlite3-dev libpsl-dev zlib1g-dev"
TEST="python3 python3-pytest isync python3-pytest-timeout libnet-ssleay-perl python3-dkim python3-spf python3-authheaders python3-authres python3-yaml python3-dnspython swaks dnsutils strace openssl util-linux procps iproute2"
# DNS tests: dig and delv (bind9-dnsutils), ldns-keygen/ldns-signzone (ldnsutils),
# NSD as the reference server the answers are compared with.
TEST="$TEST bind9-dnsutils ldnsutils nsd"
# Real IMAP clients driven by the tests (test_imap_clients.py; isync is above).
TEST="$TEST offlineimap3 mutt"
# pyOpenSSL: the tls-exporter channel binding of SCRAM-SHA-256-PLUS
# (test_imap_scram.py; Python's ssl module cannot export keying material).
TEST="$TEST python3-openssl"
PKGS="$BUILD $LIBS $TEST"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages:$missing" >&2
		echo "run as root: apt-get update && apt-get install -y$missing" >&2
		exit 1
	fi
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	# packages such as nsd start a system service on port 53 when
	# installed: the tests run their own on high ports, so no service
	# starts during this install (policy-rc.d, removed again after)
	policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\n# temporary, scripts/install-deps.sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		policy=1
	fi
	apt-get update -q
	# shellcheck disable=SC2086
	rc=0
	apt-get install -y -q --no-install-recommends $missing || rc=$?
	[ -n "$policy" ] && rm -f /usr/sbin/policy-rc.d
	[ "$rc" = 0 ] || exit "$rc"
fi

# System users for privilege separation (DESIGN.md, "Processes").
if [ "$(id -u)" = 0 ]; then
	for u in _talon _talonq _talonmail _talonpol _talondns _talonauth _talonimap; do
		if ! getent passwd "$u" >/dev/null; then
			adduser --system --group --no-create-home --home /nonexistent \
				--disabled-login --quiet "$u"
			echo "created system user $u"
		fi
	done
fi

# Dovecot as the tests' oracle for the Maildir (test_dovecot_oracle.py):
# unpacked into a cache directory, never installed, no service started.
# The test runs this itself too; doing it here lets CI fetch it up front.
if [ "$(id -u)" = 0 ]; then
	"$(dirname "$0")/dovecot-local.sh" >/dev/null
elif [ ! -x "${DOVECOT_LOCAL:-/var/cache/talon-dovecot}/imap-preauth" ]; then
	echo "note: tests/integration/test_dovecot_oracle.py needs scripts/dovecot-local.sh" \
		"(as root, or with DOVECOT_LOCAL=DIR)" >&2
fi
