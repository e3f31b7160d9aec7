# bench/lib.sh - helpers shared by the bench/*.sh scripts (sourced, not run).
# Bash only.  Every loop here is bounded in count and in time.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
BENCH_TMP="$BENCH_DIR/tmp"     # scratch space, ignored by git (bench/.gitignore)

say() { printf '%s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

now() { date +%s.%N; }
# elapsed T0 [T1]: seconds between two `now` stamps, 3 decimals
elapsed() { awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN { printf "%.3f", b - a }'; }
# div A B [FORMAT]: n/a when B is 0 or either is not a number (n/a, empty)
div() {
	awk -v a="$1" -v b="$2" -v f="${3:-%.1f}" 'BEGIN {
		num = "^-?[0-9]+([.][0-9]+)?$"
		if (a !~ num || b !~ num || b + 0 == 0) print "n/a"; else printf f, a / b }'
}
# median of the numbers given as arguments ("n/a" and empty ones are skipped)
median() {
	printf '%s\n' "$@" | grep -E '^-?[0-9]+(\.[0-9]+)?$' | sort -g |
		awk '{ v[n++] = $1 }
		END { if (n == 0) { print "n/a"; exit }
		      if (n % 2) print v[(n - 1) / 2]; else printf "%.3f\n", (v[n / 2 - 1] + v[n / 2]) / 2 }'
}
# kv KEY LINE...: the value of KEY=value in a "k=v k=v" line
kv() { local k=$1; shift; printf '%s\n' "$*" | tr ' ' '\n' | sed -n "s/^$k=//p" | head -n1; }

# lock NAME: one instance at a time of a script using bench/tmp/NAME*
lock() {
	mkdir -p "$BENCH_TMP"
	exec 9>"$BENCH_TMP/$1.lock"
	# a daemon of the previous run may hold the inherited fd a moment longer
	flock -w 15 9 || die "another $1 run holds $BENCH_TMP/$1.lock"
}

need_root() { [ "$(id -u)" = 0 ] || die "run as root (packages, system users, private Postfix)"; }

# The directory the scratch data goes to must be on a real disk, as the
# repository is: a tmpfs would make every fsync free and the figures lies.
check_scratch_fs() {
	mkdir -p "$BENCH_TMP"
	local fstype
	fstype=$(findmnt -n -o FSTYPE -T "$BENCH_TMP" 2>/dev/null || echo unknown)
	case "$fstype" in
	tmpfs|ramfs) say "bench: WARNING: $BENCH_TMP is on $fstype: fsync costs nothing there, figures are not meaningful" ;;
	esac
	printf '%s %s\n' "$fstype" "$(findmnt -n -o SOURCE -T "$BENCH_TMP" 2>/dev/null)"
}

# free_port [PREFERRED]: PREFERRED if nothing listens there, else one the
# kernel picks on 127.0.0.1
free_port() {
	/usr/bin/python3 - "${1:-0}" <<'PY'
import socket, sys
want = int(sys.argv[1])
for p in ([want] if want else []) + [0]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close(); continue
    print(s.getsockname()[1]); s.close(); break
PY
}

# wait_port PORT SECONDS: until something accepts on 127.0.0.1:PORT
wait_port() {
	local port=$1 i n=$(( ${2:-10} * 10 ))
	for ((i = 0; i < n; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	return 1
}

count_files() { find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l; }

# wait_files DIR N SECONDS: until DIR holds N files; prints the count reached
wait_files() {
	local dir=$1 want=$2 secs=$3 c=0 i n
	n=$(( secs * 20 ))
	for ((i = 0; i < n; i++)); do
		c=$(count_files "$dir")
		[ "$c" -ge "$want" ] && break
		sleep 0.05
	done
	echo "$c"
}

# descendants PID: PID and all its descendants (bounded depth)
# A bench's global time limit and its load client.
#   watchdog_start SECS  SIGTERM to this script after SECS (its EXIT trap
#                        then stops everything); sets T_START, WATCHDOG_PID
#   time_left            seconds left of it (at least 1)
#   client_stop          the client started as CLIENT_PID, and whatever it
#                        started (perf, strace, Dovecot's imap), stopped
#   watchdog_stop        the watchdog (with its sleep) ended
CLIENT_PID=""
WATCHDOG_PID=""
watchdog_start() {
	T_START=$(date +%s)
	WATCHDOG_SECS=$1
	(
		trap 'kill "$s" 2>/dev/null; exit 0' TERM
		sleep "$WATCHDOG_SECS" &
		s=$!
		wait "$s" && { echo "bench: global timeout of $WATCHDOG_SECS s reached" >&2; kill -TERM $$; }
	) &
	WATCHDOG_PID=$!
}
time_left() {
	local left=$((T_START + WATCHDOG_SECS - $(date +%s)))
	echo $((left > 1 ? left : 1))
}
client_stop() {
	local p
	[ -n "$CLIENT_PID" ] || return 0
	for p in $(descendants "$CLIENT_PID"); do kill -TERM "$p" 2>/dev/null; done
	wait "$CLIENT_PID" 2>/dev/null
	CLIENT_PID=""
}
watchdog_stop() {
	[ -n "$WATCHDOG_PID" ] || return 0
	kill -TERM "$WATCHDOG_PID" 2>/dev/null
	wait "$WATCHDOG_PID" 2>/dev/null
	WATCHDOG_PID=""
}

descendants() {
	local todo=("$1") next d p
	for d in 1 2 3 4 5 6; do
		next=()
		for p in "${todo[@]}"; do
			[ -d "/proc/$p" ] || continue
			echo "$p"
			next+=($(pgrep -P "$p" 2>/dev/null))
		done
		[ ${#next[@]} -eq 0 ] && break
		todo=("${next[@]}")
	done
}

# tree_cpu PID: CPU seconds of PID and its live descendants, plus what PID's
# already-reaped children used (cutime+cstime of PID): the whole tree's work
# so far.  Take it before stopping the tree.
tree_cpu() {
	local root=$1 hz
	hz=$(getconf CLK_TCK)
	for p in $(descendants "$root"); do
		[ -r "/proc/$p/stat" ] || continue
		# strip "pid (comm) " so that a comm with blanks cannot shift fields
		sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk -v root="$([ "$p" = "$root" ] && echo 1 || echo 0)" \
			'{ t = $12 + $13; if (root) t += $14 + $15; print t }'
	done | awk -v hz="$hz" '{ s += $1 } END { printf "%.2f", s / hz }'
}

# tree_pss_kb PID: sum of Pss (proportional set size: shared pages divided
# among the processes sharing them) over PID and its descendants, in KB;
# VmRSS where smaps_rollup is missing.  A sum of RSS would count the shared
# libraries once per process.  A process that ends meanwhile (a server that
# forks per session has many) is skipped: the sum is always printed, and the
# status is 0 even under `set -e -o pipefail`.
tree_pss_kb() {
	for p in $(descendants "$1"); do
		if [ -r "/proc/$p/smaps_rollup" ]; then
			awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || true
		else
			awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true
		fi
	done | awk '{ s += $1 } END { print s + 0 }'
}

# tree_rss_kb PID: sum of VmRSS over PID and its descendants, in KB: what
# `ps` shows, added up, so shared pages count once per process (compare
# tree_pss_kb; processes that end meanwhile are skipped as there)
tree_rss_kb() {
	local p
	for p in $(descendants "$1"); do
		awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true
	done | awk '{ s += $1 } END { print s + 0 }'
}

# --- packages ---------------------------------------------------------------

POLICY_RC_CREATED=0
cleanup_policy_rc() {
	if [ "$POLICY_RC_CREATED" = 1 ]; then
		rm -f /usr/sbin/policy-rc.d
		POLICY_RC_CREATED=0
	fi
}

# ensure_postfix: postfix (the peer), installed without leaving the
# system instance running: debconf says "No configuration" (no
# /etc/postfix/main.cf, nothing to start), a policy-rc.d (ours only when
# there is none) forbids starting services during the install, and if the
# install started the system instance all the same, it is stopped.
ensure_postfix() {
	if command -v postfix >/dev/null 2>&1; then
		return 0
	fi
	need_root
	say "bench: installing postfix (the Postfix peer)"
	local was_running=0
	ss -Hltn 'sport = :25' 2>/dev/null | grep -q . && was_running=1
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\n# temporary, bench/lib.sh: no service starts during the install\nexit 101\n' \
			>/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		POLICY_RC_CREATED=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q --no-install-recommends postfix >/dev/null; then
		apt-get update -q >/dev/null
		apt-get install -y -q --no-install-recommends postfix >/dev/null ||
			{ cleanup_policy_rc; die "apt-get install postfix failed"; }
	fi
	cleanup_policy_rc
	# the system instance must not be left running because of us
	if [ "$was_running" = 0 ] && [ -f /etc/postfix/main.cf ] &&
	    postfix status >/dev/null 2>&1; then
		postfix stop >/dev/null 2>&1 || true
	fi
	if [ "$was_running" = 0 ] && ss -Hltn 'sport = :25' 2>/dev/null | grep -q .; then
		say "bench: WARNING: something listens on port 25 after installing postfix:"
		ss -Hltnp 'sport = :25' >&2
	fi
	command -v postfix >/dev/null 2>&1 || die "postfix still missing after installing it"
}

# ensure_user NAME: a system user with no home and no login
ensure_user() {
	getent passwd "$1" >/dev/null && return 0
	need_root
	adduser --system --group --no-create-home --home /nonexistent \
		--disabled-login --quiet "$1" || die "cannot create system user $1"
	say "bench: created system user $1"
}

# build_load: bench/tmp/smtp_load from bench/smtp_load.c when missing or
# older than its source (compiled to a temporary name, then renamed, so that
# a concurrent reader never runs half a binary); sets LOAD_BIN
build_load() {
	LOAD_BIN="$BENCH_TMP/smtp_load"
	mkdir -p "$BENCH_TMP"
	if [ ! -x "$LOAD_BIN" ] || [ "$BENCH_DIR/smtp_load.c" -nt "$LOAD_BIN" ]; then
		if ! cc -O2 -Wall -Wextra -pthread -o "$LOAD_BIN.$$" "$BENCH_DIR/smtp_load.c" ||
		    ! mv -f "$LOAD_BIN.$$" "$LOAD_BIN"; then
			rm -f "$LOAD_BIN.$$"
			die "cannot build smtp_load from $BENCH_DIR/smtp_load.c"
		fi
	fi
}

# run_load PORT N SESSIONS SIZE TIMEOUT LOG: the load, bench/smtp_load.c
# (one message per connection, SESSIONS connections in parallel, the time
# from the final ".\r\n" to its 250 recorded for each message); the caller
# times it as well.  smtp_load's own deadline is TIMEOUT; `timeout` only
# backs it up.  Sets LOAD_LINE to its "load sent=... ok=... lat_p50_ms=..."
# line (stdout; its stderr, the failures it describes, goes to LOG too).
# In the background + wait, so that a signal to the script runs its traps at
# once (stop_load ends the load then).  LOAD_FROM (default
# sender@bench.test) is the envelope sender; LOAD_FILE, when set, is a
# message file sent as every message (smtp_load -F; SIZE is then unused).
# LOAD_CPU is the generator's own CPU seconds (user+sys, /usr/bin/time):
# on a machine it shares with the server, that much is not the server's.
LOAD_PID=""
LOAD_LINE=""
LOAD_CPU=""
run_load() {
	local port=$1 n=$2 sessions=$3 size=$4 tmo=$5 log=$6 rc=0 failed
	[ -n "${LOAD_BIN:-}" ] || build_load
	rm -f "$log.cpu"
	timeout -k 5 "$((tmo + 30))" /usr/bin/time -o "$log.cpu" -f "cpu %U %S" \
		"$LOAD_BIN" -s "$sessions" -m "$n" -l "$size" -T "$tmo" \
		${LOAD_FILE:+-F "$LOAD_FILE"} -f "${LOAD_FROM:-sender@bench.test}" -t bench@bench.test \
		"127.0.0.1:$port" >"$log" 2>&1 &
	LOAD_PID=$!
	wait "$LOAD_PID" || rc=$?
	LOAD_PID=""
	LOAD_LINE=$(grep '^load ' "$log" | tail -n1)
	LOAD_CPU=$(awk '$1 == "cpu" { printf "%.2f", $2 + $3 }' "$log.cpu" 2>/dev/null)
	failed=$(kv failed "$LOAD_LINE")
	if [ "$rc" != 0 ] || [ -z "$LOAD_LINE" ] || [ "${failed:-1}" != 0 ] || [ "$(kv ok "$LOAD_LINE")" != "$n" ]; then
		say "bench: smtp_load exited with $rc (1 = not every message got its 250, 124 = timeout);" \
			"${LOAD_LINE:-no result line}; last lines of $log:"
		grep -v '^load ' "$log" | tail -n 5 >&2
	fi
	return 0
}

# load_keys: the keys of the last run_load for a result line, n/a where
# smtp_load gave none
load_keys() {
	local k v out=""
	for k in lat_p50_ms lat_p99_ms lat_max_ms ok failed; do
		v=$(kv "$k" "$LOAD_LINE")
		case $k in ok|failed) k=load_$k ;; esac
		out+="${out:+ }$k=${v:-n/a}"
	done
	out+=" load_cpu_s=${LOAD_CPU:-n/a}"
	printf '%s\n' "$out"
}

stop_load() {
	[ -n "$LOAD_PID" ] || return 0
	kill -TERM "$LOAD_PID" 2>/dev/null   # timeout passes it on to smtp_load
	wait "$LOAD_PID" 2>/dev/null
	LOAD_PID=""
}

# --- Talon ------------------------------------------------------------------
#
# The bench runs `talon serve` as root with the daemon's own privilege
# separation: smtp workers as _talon, the queue/delivery process as _talonq
# (created here when missing, as scripts/install-deps.sh does).  That is the
# production layout, and the parent refuses to run its children as root.
# TALON=/path/to/talon picks another binary; TALON_ARGS overrides how the
# config is passed (default: global option, `talon -c FILE serve`; set
# TALON_ARGS=serve-c for `talon serve -c FILE`).

ensure_talon() {
	TALON=${TALON:-$REPO_DIR/build/talon}
	if [ ! -x "$TALON" ] && [ "$TALON" = "$REPO_DIR/build/talon" ]; then
		say "bench: $TALON is missing; building it (scripts/install-deps.sh, make build/talon)"
		( cd "$REPO_DIR" && scripts/install-deps.sh >&2 && make -s build/talon >&2 ) ||
			die "build/talon is missing and 'make build/talon' failed: 'talon serve' may not be written yet"
	fi
	[ -x "$TALON" ] || die "no talon binary at $TALON (build it with 'make', or set TALON=)"
	if [ "$(id -u)" = 0 ]; then
		ensure_user _talon
		ensure_user _talonq
	fi
}

# talon_write_conf DIR PORT: a fresh instance directory with talon.conf,
# users (bench, no password) and aliases; mail to bench@bench.test lands in
# DIR/store/bench/Maildir/new/
talon_write_conf() {
	local dir=$1 port=$2
	rm -rf "$dir"
	mkdir -p "$dir"
	chmod 755 "$dir"
	cat >"$dir/talon.conf" <<CONF
# written by bench/lib.sh for one benchmark run; paths relative to this file
hostname bench.test
domain bench.test
listen smtp 127.0.0.1:$port tls none
store store
spool spool
state state
users users
aliases aliases
workers 2
limit connections 2000
limit connections-per-ip 2000
limit recipients 100
CONF
	printf 'bench:\n' >"$dir/users"
	printf 'postmaster: bench\nabuse: bench\n' >"$dir/aliases"
}

TALON_TIME_PID=""
TALON_PID=""

# talon_start DIR PORT: `talon serve` in the background under /usr/bin/time -v
# (report in DIR/time.txt, daemon log in DIR/talon.log); sets TALON_PID
talon_start() {
	local dir=$1 port=$2 i
	local -a args
	if [ "${TALON_ARGS:-}" = serve-c ]; then
		args=(serve -c "$dir/talon.conf")
	else
		args=(-c "$dir/talon.conf" serve)
	fi
	/usr/bin/time -v -o "$dir/time.txt" "$TALON" "${args[@]}" >"$dir/talon.log" 2>&1 &
	TALON_TIME_PID=$!
	for ((i = 0; i < 200; i++)); do
		if ! kill -0 "$TALON_TIME_PID" 2>/dev/null; then
			say "bench: talon exited at start; its log ($dir/talon.log):"
			tail -n 20 "$dir/talon.log" >&2
			if [ -z "${TALON_ARGS:-}" ] && grep -qiE 'unknown (option|argument)|usage' "$dir/talon.log"; then
				say "bench: retrying as 'talon serve -c FILE'"
				TALON_ARGS=serve-c
				talon_start "$dir" "$port"
				return $?
			fi
			TALON_TIME_PID=""
			return 1
		fi
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
		sleep 0.1
	done
	if [ "$i" -ge 200 ]; then
		say "bench: talon does not listen on 127.0.0.1:$port after 20 s"
		return 1
	fi
	TALON_PID=$(pgrep -P "$TALON_TIME_PID" | head -n1)
	[ -n "$TALON_PID" ] || { say "bench: cannot find talon's pid under time ($TALON_TIME_PID)"; return 1; }
	return 0
}

# talon_stop: SIGTERM to the daemon, bounded wait for it (and time) to exit,
# SIGKILL to what is left of its tree after 30 s
talon_stop() {
	local i left
	[ -n "$TALON_TIME_PID" ] || return 0
	if [ -n "$TALON_PID" ]; then
		kill -TERM "$TALON_PID" 2>/dev/null
	else
		kill -TERM "$TALON_TIME_PID" 2>/dev/null
	fi
	for ((i = 0; i < 300; i++)); do
		kill -0 "$TALON_TIME_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$TALON_TIME_PID" 2>/dev/null; then
		say "bench: talon still running 30 s after SIGTERM; killing it"
		left=$( [ -n "$TALON_PID" ] && descendants "$TALON_PID")
		for i in $left; do kill -KILL "$i" 2>/dev/null; done
	fi
	wait "$TALON_TIME_PID" 2>/dev/null
	TALON_TIME_PID=""
	TALON_PID=""
}

# wait_log FILE PATTERN SECONDS: until an extended regex matches a line
wait_log() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# role_pid DIR ROLE: the pid of a role's (one) process, from `talon
# status`, else from the log's last spawn line
role_pid() {
	local pid
	pid=$("$TALON" -c "$1/talon.conf" status 2>/dev/null |
		awk -v r="$2" '$1 == r { print $3; exit }')
	if ! [[ "$pid" =~ ^[0-9]+$ ]]; then
		pid=$(grep -oE "parent event=spawn role=$2 pid=[0-9]+" "$1/talon.log" | tail -n1 |
			sed 's/.*pid=//')
	fi
	echo "$pid"
}

# time_v FILE FIELD: a value from /usr/bin/time -v's report
time_v() { sed -n "s/^[[:space:]]*$2:[[:space:]]*//p" "$1" 2>/dev/null | head -n1; }

# link_with_talon SRC BIN: build the release objects (make is incremental)
# and link bench program SRC against all of them but cli/main.o into BIN,
# as the unit tests link against the sanitizer objects.  Only the objects
# of today's sources: build/ may hold objects of files since removed.
# libunbound and libpsl are named directly, as in the Makefile (Debian's
# libunbound.pc needs libevent's, which is not installed).
link_with_talon() {
	local src=$1 bin=$2 objs cflags libs
	say "bench: make build/talon (release objects)"
	make -s -C "$REPO_DIR" build/talon >&2 || die "make build/talon failed"
	objs=$(cd "$REPO_DIR" && for c in src/*/*.c; do
		[ "$c" = src/cli/main.c ] || echo "$REPO_DIR/build/${c%.c}.o"; done)
	[ -n "$objs" ] || die "no objects under $REPO_DIR/build/src"
	cflags=$(pkg-config --cflags openssl 2>/dev/null)
	libs="$(pkg-config --libs openssl) -lunbound -lpsl"
	# shellcheck disable=SC2086
	cc -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -Wshadow -Wstrict-prototypes \
		-Wmissing-prototypes -pthread -I"$REPO_DIR/src" $cflags -o "$bin.$$" \
		"$src" $objs $libs -lcrypt -pthread ||
		{ rm -f "$bin.$$"; die "cannot build $(basename "$src")"; }
	mv -f "$bin.$$" "$bin"
}

# --- imaptest (imaptest.sh, imaptest-ratio.sh) ------------------------------

# bench_cert_password DIR: DIR/cert/{cert,key}.pem (self-signed for
# bench.test and 127.0.0.1, kept across runs) and DIR/password (random,
# mode 0600, kept), for the IMAP benches.
bench_cert_password() {
	local w=$1
	if [ ! -s "$w/cert/cert.pem" ] || [ ! -s "$w/cert/key.pem" ]; then
		rm -rf "$w/cert"
		mkdir -p "$w/cert"
		openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=bench.test \
			-addext "subjectAltName=DNS:bench.test,IP:127.0.0.1" \
			-keyout "$w/cert/key.pem" -out "$w/cert/cert.pem" 2>/dev/null ||
			die "openssl req failed"
	fi
	if [ ! -s "$w/password" ]; then
		(umask 077; head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$w/password")
	fi
}

# imaptest_cert DIR: a self-signed RSA-2048 certificate for CN=localhost,
# DIR/cert.pem and DIR/key.pem (imaptest runs with ssl=any-cert)
imaptest_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
		-keyout "$1/key.pem" -out "$1/cert.pem" >/dev/null 2>&1
}

# imaptest_talon_conf DIR SMTP_PORT IMAPS_PORT: talon.conf, users and
# aliases in DIR (which holds cert.pem and key.pem already), an empty store;
# users testuser and testuser2 with the password "pass", hashed by
# `talon user passwd` (yescrypt)
imaptest_talon_conf() {
	local dir=$1 smtp=$2 imaps=$3 u
	mkdir -p "$dir/store" "$dir/spool" "$dir/state"
	printf 'testuser:\ntestuser2:\n' > "$dir/users"
	printf 'postmaster: testuser\nabuse: testuser\n' > "$dir/aliases"
	cat > "$dir/talon.conf" <<EOF
hostname localhost.test
domain test.example
listen smtp 127.0.0.1:$smtp
listen imap 127.0.0.1:$imaps tls implicit
tls-cert cert.pem
tls-key key.pem
store store
spool spool
state state
users users
aliases aliases
# imaptest opens many sessions of one user from one address at once
limit imap-connections-per-user 500
EOF
	for u in testuser testuser2; do
		echo pass | "$REPO_DIR/build/talon" -c "$dir/talon.conf" user passwd "$u" >/dev/null
	done
}

# imaptest_stress_mbox FILE: the mbox imaptest's stress mode appends from:
# 2000 messages, each with a Message-ID of its own (imaptest tells messages
# apart by it), the same bytes on every call (fixed seed)
imaptest_stress_mbox() {
	/usr/bin/python3 - "$1" <<'PY'
import sys, random
random.seed(14)
with open(sys.argv[1], "w") as f:
    for i in range(2000):
        body = "\n".join("line %d of message %d %s" % (j, i, "x" * random.randint(0, 60))
                         for j in range(random.randint(3, 80)))
        f.write("From sender@example.org Thu Jan  1 00:00:00 2026\n"
                "From: Sender %d <sender%d@example.org>\nTo: testuser@test.example\n"
                "Subject: stress %d\nMessage-ID: <stress-%d@example.org>\n"
                "Date: Thu, 01 Jan 2026 00:00:00 +0000\n\n%s\n\n" % (i, i % 50, i, i, body))
PY
}

# imaptest_totals FILE: the counts of the totals imaptest prints when its
# stress mode ends ("Totals:", a line of 4-letter command names, percent
# lines, a line of counts), as "Logi=N List=N ..."; nothing when the file
# has no complete totals (imaptest was killed, or never connected)
imaptest_totals() {
	awk '/^Totals:/ { t = 1; names = ""; counts = ""; next }
	     t && names == "" && /^[A-Z]/ { names = $0; next }
	     t && names != "" && /^ *[0-9]+( +[0-9]+)* *$/ { counts = $0 }
	     END {
		n = split(names, a); m = split(counts, c)
		if (n == 0 || n != m) exit
		for (i = 1; i <= n; i++) printf "%s%s=%s", (i > 1 ? " " : ""), a[i], c[i]
		print ""
	     }' "$1"
}

# Debian's Dovecot, and imaptest built against it, load modules (the SSL
# one among them) from /usr/lib/dovecot, a path compiled into libdovecot.
# dovecot_lib_link DIR: when there is no /usr/lib/dovecot (or only a
# dangling symlink), a symlink to DIR, the unpacked one, for this run;
# dovecot_lib_unlink removes it again if it is still ours.  Another script
# that removes it meanwhile (a second checkout's imaptest.sh ending) breaks
# the run: one imaptest bench per machine at a time.
DOVECOT_LIB_LINKED=""
dovecot_lib_link() {
	[ -e /usr/lib/dovecot ] && return 0
	ln -sfn "$1" /usr/lib/dovecot || die "cannot make the symlink /usr/lib/dovecot -> $1"
	DOVECOT_LIB_LINKED=$1
}
dovecot_lib_unlink() {
	if [ -n "$DOVECOT_LIB_LINKED" ] && [ -L /usr/lib/dovecot ] &&
	    [ "$(readlink /usr/lib/dovecot)" = "$DOVECOT_LIB_LINKED" ]; then
		rm -f /usr/lib/dovecot
	fi
	DOVECOT_LIB_LINKED=""
}
