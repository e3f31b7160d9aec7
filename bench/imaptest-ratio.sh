#!/bin/bash
# bench/imaptest-ratio.sh - imaptest's stress mode against talon and against
# Debian's Dovecot on the same machine, run alternately, and the ratio of
# their throughputs: IMAP commands per second, talon / Dovecot, per round
# and the median over rounds (the IMAP issue's target: >= 1.5).
#
#   IMAPTEST=/path/to/imaptest bench/imaptest-ratio.sh
#   SECS=20 ROUNDS=1 bench/imaptest-ratio.sh        # a quick look
#
# Knobs (environment):
#   IMAPTEST  the imaptest binary (default: the one bench/imaptest.sh SRC
#             builds, bench/tmp/imaptest/src/src/imaptest); it runs with
#             LD_LIBRARY_PATH to the unpacked Dovecot libraries
#   SECS      seconds of load per run (default 60)
#   ROUNDS    pairs of runs, talon then Dovecot (default 3)
#   CLIENTS   imaptest's clients=, sessions at once (default 10)
#   LOGOUT    imaptest's logout= percentage (default its own 100: every
#             session ends after one round of commands and logs in again,
#             so both servers mostly hash yescrypt; LOGOUT=0 keeps sessions
#             open and measures the mailbox work)
#
# Every run starts its server fresh with an empty store, on a free port of
# 127.0.0.1, and gives imaptest the same generated mbox (2000 messages with
# unique Message-IDs, bench/lib.sh imaptest_stress_mbox), user testuser,
# password "pass", implicit TLS (imaptest has no STARTTLS) with the same
# self-signed RSA-2048 certificate, ssl=any-cert.
#
#   talon:   build/talon, the config bench/imaptest.sh uses (lib.sh
#            imaptest_talon_conf), `talon serve` as root (its own privilege
#            separation).
#   Dovecot: Debian 12's, unpacked by scripts/dovecot-local.sh (nothing
#            installed), its master `dovecot -F` with a full config file of
#            its own (it never reads /etc/dovecot): base_dir, state_dir and
#            log under the run's directory, imaps only, ssl = required,
#            passdb passwd-file holding talon's users file as it is (the
#            same {CRYPT}$y$ yescrypt hashes; Debian's Dovecot checks them
#            with libxcrypt's crypt()), userdb static as _talonmail,
#            mail_location maildir:RUN/mail/%u/Maildir.  Its defaults
#            otherwise (a login process per connection, mail_fsync =
#            optimized, auth_cache_size = 0), except where noted in
#            write_dovecot_conf (limits talon's config raises too, what the
#            unpacked binaries need to run).
#   Dovecot's master reads its settings by running doveconf from the path
#   it was built with (/usr/bin/doveconf), absent here: so the unpacked
#   doveconf reads our file and execs the master with the settings in its
#   environment (`doveconf -e`, as scripts/dovecot-local.sh runs imap).
#
# Neither server caches authentication: both hash yescrypt on every LOGIN,
# and imaptest logs in again and again (about one LOGIN in 9 commands), so
# logins weigh on both figures: the "ceiling" line gives what one check of
# the hash costs here, on one core, before the runs.
#
# Printed (key=value lines, stdout) per run: logins, logins/s, commands
# (the sum of imaptest's totals over all commands) and commands/s (divided
# by SECS), imaptest's "Error:" lines (imaptest checks the answers it gets;
# a run with any is reported as such and does not count), the RSS and Pss
# sums of the server's process tree in the last seconds of the load
# (sampled every 5 s), error lines in the server's own log, the load
# average before the run; per round the ratio talon/Dovecot of commands/s
# and of logins/s; at the end the medians.  Asserts nothing.
#
# Side effects on the machine (root only): the system users dovecot and
# dovenull (Dovecot's default_internal_user and default_login_user) and
# _talonmail (the mail owner of Dovecot's store) are created when missing
# (bench/lib.sh ensure_user: adduser --system); /usr/lib/dovecot, where
# libdovecot looks for its modules (the SSL one), is made a symlink to the
# unpacked directory when it does not exist, and removed at exit.  One
# imaptest bench per machine at a time (the symlink is shared).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SECS=${SECS:-60}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-10}
[[ -z "${LOGOUT:-}" || "$LOGOUT" =~ ^([0-9]|[1-9][0-9]|100)$ ]] || die "LOGOUT must be 0..100"
IMAPTEST=${IMAPTEST:-$BENCH_TMP/imaptest/src/src/imaptest}
MAIL_USER=_talonmail
for v in SECS ROUNDS CLIENTS; do
	[[ ${!v} =~ ^[1-9][0-9]{0,5}$ ]] || die "$v must be a positive integer (is '${!v}')"
done
[ -x "$IMAPTEST" ] || die "no imaptest at $IMAPTEST: set IMAPTEST=/path/to/imaptest" \
	"(bench/imaptest.sh SRC builds one there)"
IMAPTEST=$(cd "$(dirname "$IMAPTEST")" && pwd)/$(basename "$IMAPTEST")

need_root
lock imaptest-ratio
W="$BENCH_TMP/imaptest-ratio"
rm -rf "$W"
mkdir -p "$W"
FS=$(check_scratch_fs)

# --- what both servers need ----------------------------------------------------

[ -x "$REPO_DIR/build/talon" ] || ensure_talon
"$REPO_DIR/scripts/dovecot-local.sh" >/dev/null
DOVE="${DOVECOT_LOCAL:-/var/cache/talon-dovecot}/root"
for f in usr/sbin/dovecot usr/bin/doveconf usr/lib/dovecot/imap usr/lib/dovecot/imap-login; do
	[ -x "$DOVE/$f" ] || die "no $f in the unpacked Dovecot ($DOVE)"
done
# Dovecot's libraries, then the library packages dovecot-local.sh fetched
# because the machine lacks them (its libpath)
DOVE_LP="$DOVE/usr/lib/dovecot"
for d in "$DOVE"/usr/lib/*-linux-gnu* "$DOVE"/lib/*-linux-gnu*; do
	[ -d "$d" ] && DOVE_LP="$DOVE_LP:$d"
done
for u in dovecot dovenull "$MAIL_USER"; do ensure_user "$u"; done
MAIL_UID=$(id -u "$MAIL_USER")

# Unix socket paths are at most 107 bytes; Dovecot's longest under
# base_dir is about 30 more
[ ${#W} -le 60 ] || die "$W is too long a path for Dovecot's sockets (at most 60 bytes)"

SRV_PID=""      # the server's main process (talon's parent, Dovecot's master)
IT_PID=""       # imaptest
on_exit() {
	set +e	# a failing step here must not skip the ones after it
	[ -n "$IT_PID" ] && { kill -TERM "$IT_PID" 2>/dev/null; wait "$IT_PID" 2>/dev/null; }
	IT_PID=""
	stop_server
	dovecot_lib_unlink
}
trap on_exit EXIT
trap 'say "bench: interrupted; stopping what it started"; exit 130' INT
trap 'say "bench: terminated; stopping what it started"; exit 143' TERM
dovecot_lib_link "$DOVE/usr/lib/dovecot"

MBOX="$W/stress.mbox"
imaptest_stress_mbox "$MBOX"
imaptest_cert "$W"
# Dovecot's passwd-file: a users file as `talon user passwd` writes it is
# one already (user:{CRYPT}$y$...), so both get the same kind of hash
imaptest_talon_conf "$W/users" "$(free_port)" "$(free_port)"
cp "$W/users/users" "$W/passwd"
# shellcheck disable=SC2016  # a literal $y$
grep -q '^testuser:{CRYPT}\$y\$' "$W/passwd" || die "talon user passwd wrote no yescrypt hash"

# --- the servers -------------------------------------------------------------------

# stop_server: SIGTERM to the main process (each stops its children), a
# bounded wait, then SIGKILL to whatever is left of the tree
stop_server() {
	local pid=$SRV_PID left i
	[ -n "$pid" ] || return 0
	left=$(descendants "$pid")
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && say "bench: server $pid still running 20 s after SIGTERM; killing it"
	# its children may outlive it for a moment either way
	sleep 0.2
	for i in $left; do kill -0 "$i" 2>/dev/null && kill -KILL "$i" 2>/dev/null; done
	wait "$pid" 2>/dev/null
	SRV_PID=""
	return 0
}

# start_talon DIR PORT: a fresh talon with imaptest.sh's config; sets SRV_PID
start_talon() {
	local dir=$1 port=$2
	imaptest_talon_conf "$dir" "$(free_port)" "$port"
	(cd "$dir" && exec "$REPO_DIR/build/talon" serve -c talon.conf >talon.log 2>&1) &
	SRV_PID=$!
	wait_port "$port" 20 || { say "bench: talon did not start; $dir/talon.log:";
		tail -n 20 "$dir/talon.log" >&2; return 1; }
	sleep 1	# the auth process reads the users file (as imaptest.sh waits)
}

# write_dovecot_conf DIR PORT: Dovecot's whole configuration, DIR/dovecot.conf
write_dovecot_conf() {
	local dir=$1 port=$2
	cat >"$dir/dovecot.conf" <<EOF
# written by bench/imaptest-ratio.sh for one run; Dovecot's defaults but for
# the lines marked (*)
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = required
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem
default_internal_user = dovecot
default_login_user = dovenull
# (*) the mail owner is a system user, below the default limit of 500
first_valid_uid = $MAIL_UID
# (*) the children run from the unpacked directory: its libraries
import_environment = TZ CORE_OUTOFMEM CORE_ERROR LISTEN_PID LISTEN_FDS NOTIFY_SOCKET LD_LIBRARY_PATH
mail_location = maildir:$dir/mail/%u/Maildir
passdb {
  driver = passwd-file
  args = scheme=CRYPT username_format=%u $dir/passwd
}
userdb {
  driver = static
  args = uid=$MAIL_USER gid=$(id -gn "$MAIL_USER") home=$dir/mail/%u
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = $port
    ssl = yes
  }
}
protocol imap {
  # (*) imaptest's sessions are all one user from one address: the same
  # limit talon's config sets (limit imap-connections-per-user 500)
  mail_max_userip_connections = 500
}
EOF
}

# start_dovecot DIR PORT: a fresh Dovecot master in the foreground; sets
# SRV_PID (the master: doveconf execs it)
start_dovecot() {
	local dir=$1 port=$2
	mkdir -p "$dir/run" "$dir/state" "$dir/mail"
	chown "$MAIL_USER:" "$dir/mail"
	cp "$W/passwd" "$dir/passwd"
	write_dovecot_conf "$dir" "$port"
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LD_LIBRARY_PATH="$DOVE_LP" \
		"$DOVE/usr/bin/doveconf" -c "$dir/dovecot.conf" -m master \
		-e "$DOVE/usr/sbin/dovecot" -F -c "$dir/dovecot.conf" >"$dir/dovecot.out" 2>&1 &
	SRV_PID=$!
	wait_port "$port" 20 || { say "bench: Dovecot did not start; $dir/dovecot.out and .log:";
		tail -n 20 "$dir/dovecot.out" "$dir/dovecot.log" >&2 2>/dev/null; return 1; }
}

# yescrypt_ms: milliseconds one check of the users' hash takes here, with
# libxcrypt's crypt() as both servers call it (median of 5, one core):
# the ceiling of logins per second per core
yescrypt_ms() {
	/usr/bin/python3 - "$W/passwd" <<'PY' 2>/dev/null || echo n/a
import ctypes, sys, time
lib = ctypes.CDLL("libcrypt.so.1")
lib.crypt.restype = ctypes.c_char_p
lib.crypt.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
h = open(sys.argv[1]).readline().split(":")[1].strip()[len("{CRYPT}"):].encode()
ts = []
for _ in range(5):
    t = time.perf_counter()
    if lib.crypt(b"pass", h) != h:
        sys.exit(1)
    ts.append(time.perf_counter() - t)
print("%.1f" % (sorted(ts)[2] * 1000))
PY
}

# log_errors SERVER DIR: error lines in the server's own log
log_errors() {
	case $1 in
	talon) grep -cE '\]: [a-z]+ err:' "$2/talon.log" || true ;;
	dovecot) grep -cE ' (Error|Fatal|Panic):' "$2/dovecot.log" || true ;;
	esac
}

loadavg() { cut -d' ' -f1 /proc/loadavg; }

# --- one run ---------------------------------------------------------------------

# run_one SERVER ROUND: SERVER (talon|dovecot) fresh, imaptest against it
# for SECS, the memory of its tree sampled every 5 s meanwhile; prints the
# run's lines and sets CMDS_S and LOGINS_S (n/a unless the run counts)
CMDS_S=n/a
LOGINS_S=n/a
run_one() {
	local srv=$1 round=$2 dir port out t0 wall i totals logins cmds errs status srv_errs
	local rss=n/a pss=n/a rss_max=0 load
	dir="$W/r$round-$srv"
	out="$dir/imaptest.txt"
	CMDS_S=n/a
	LOGINS_S=n/a
	mkdir -p "$dir"
	cp "$W/cert.pem" "$W/key.pem" "$dir/"
	port=$(free_port)
	if ! "start_$srv" "$dir" "$port"; then
		printf 'run round=%s server=%s status=no-start\n' "$round" "$srv"
		stop_server
		return 0
	fi
	load=$(loadavg)
	t0=$(now)
	timeout -k 5 $((SECS + 120)) env LD_LIBRARY_PATH="$DOVE_LP" "$IMAPTEST" \
		host=127.0.0.1 port="$port" ssl=any-cert user=testuser pass=pass \
		mbox="$MBOX" clients="$CLIENTS" secs="$SECS" ${LOGOUT:+logout="$LOGOUT"} \
		>"$out" 2>&1 &
	IT_PID=$!
	# the memory while the load runs: sampled every 5 s until SECS have passed
	for ((i = 1; ; i++)); do
		sleep 1 & wait $! || true
		kill -0 "$IT_PID" 2>/dev/null || break
		if [ $((i % 5)) != 0 ] || [ "$i" -ge "$SECS" ]; then continue; fi
		rss=$(tree_rss_kb "$SRV_PID") || rss=n/a
		pss=$(tree_pss_kb "$SRV_PID") || pss=n/a
		if [[ $rss =~ ^[0-9]+$ ]] && [ "$rss" -gt "$rss_max" ]; then rss_max=$rss; fi
	done
	wait "$IT_PID" 2>/dev/null || say "bench: imaptest against $srv exited with $? (124: timeout)"
	IT_PID=""
	wall=$(elapsed "$t0")
	stop_server
	srv_errs=$(log_errors "$srv" "$dir")

	totals=$(imaptest_totals "$out")
	errs=$(grep -c '^Error:' "$out" || true)
	logins=$(kv Logi "$totals")
	cmds=$(printf '%s\n' "$totals" | tr ' ' '\n' | awk -F= 'NF == 2 { s += $2; n++ }
		END { if (n) print s }')
	if [ -z "$totals" ]; then
		status=no-totals
	elif [ "$errs" != 0 ]; then
		status=errors
	else
		status=ok
	fi
	printf 'run round=%s server=%s status=%s errors=%s logins=%s logins_s=%s' \
		"$round" "$srv" "$status" "$errs" "${logins:-n/a}" "$(div "${logins:-}" "$SECS")"
	printf ' cmds=%s cmds_s=%s wall_s=%s rss_kb=%s rss_max_kb=%s pss_kb=%s' \
		"${cmds:-n/a}" "$(div "${cmds:-}" "$SECS")" "$wall" "$rss" "$rss_max" "$pss"
	printf ' server_log_errors=%s load1_before=%s\n' "$srv_errs" "$load"
	[ -n "$totals" ] && printf 'counts round=%s server=%s %s\n' "$round" "$srv" "$totals"
	if [ "$status" != ok ]; then
		say "bench: $srv round $round: $status; imaptest's output: $out"
		grep '^Error:' "$out" | head -n 5 | cut -c1-200 >&2 || true
		return 0
	fi
	CMDS_S=$(div "$cmds" "$SECS" %.3f)
	LOGINS_S=$(div "$logins" "$SECS" %.3f)
}

# --- the rounds ------------------------------------------------------------------

printf 'imaptest-ratio secs=%s rounds=%s clients=%s cpus=%s scratch_fs=%s\n' \
	"$SECS" "$ROUNDS" "$CLIENTS" "$(nproc)" "${FS%% *}"
printf 'imaptest-ratio dovecot=%s imaptest=%s\n' \
	"$(sed -n 's/^dovecot-core //p' "$DOVE/../extracted")" "$IMAPTEST"
ys=$(yescrypt_ms)
printf 'ceiling yescrypt_verify_ms=%s logins_s_per_core=%s load1=%s\n' \
	"$ys" "$(div 1000 "$ys")" "$(loadavg)"
echo "note: both servers verify the same kind of yescrypt hash (\$y\$j9T\$, talon user passwd)" \
	"on every LOGIN: no auth cache in either (Dovecot's auth_cache_size = 0 is its default)"
echo "note: Dovecot runs its defaults: a login process per connection, an imap process" \
	"per session, mail_fsync = optimized (talon fsyncs every stored message)"

declare -a T_CMDS=() D_CMDS=() RATIOS=() L_RATIOS=()
for ((r = 1; r <= ROUNDS; r++)); do
	run_one talon "$r"
	tc=$CMDS_S tl=$LOGINS_S
	run_one dovecot "$r"
	dc=$CMDS_S dl=$LOGINS_S
	T_CMDS+=("$tc")
	D_CMDS+=("$dc")
	ratio=$(div "$tc" "$dc" %.3f)
	lratio=$(div "$tl" "$dl" %.3f)
	RATIOS+=("$ratio")
	L_RATIOS+=("$lratio")
	printf 'ratio round=%s talon_over_dovecot_cmds_s=%s talon_over_dovecot_logins_s=%s\n' \
		"$r" "$ratio" "$lratio"
done

valid=$(printf '%s\n' "${RATIOS[@]}" | grep -c '^[0-9]' || true)
printf 'median talon_cmds_s=%s dovecot_cmds_s=%s ratio_cmds_s=%s ratio_logins_s=%s' \
	"$(median "${T_CMDS[@]}")" "$(median "${D_CMDS[@]}")" "$(median "${RATIOS[@]}")" \
	"$(median "${L_RATIOS[@]}")"
printf ' rounds_counted=%s/%s target_ratio=1.5\n' "$valid" "$ROUNDS"
say "imaptest-ratio: outputs and logs in $W/r*-{talon,dovecot}/"
