#!/bin/bash
# bench/imap.sh - talon's IMAP mailbox process against Dovecot's imap on the
# same Maildir: the commands a mail client sends first, timed one by one,
# every answer checked, over 127.0.0.1 only.
#
# Setup (once per MSGS, kept in bench/tmp/imap/pristine/ while its stamp
# matches): bench/gen-maildir.py writes MSGS messages (2-20 KiB, some
# multipart, realistic headers, deterministic) into Maildir/new/ under the
# names talon's deliver gives (TIME.QQIDIIDX.HOST,S=SIZE,W=VSIZE), owned by
# the store's user (_talonmail).  Each round then copies that pristine
# Maildir with `cp -a` twice (same bytes, names, times, owners), once for
# each server, so both start from new/ and assign the UIDs themselves:
#
#   talon    a fresh `talon serve` (bench/tmp/imap/talon-rR/, as root with
#            its normal privilege separation, lib.sh's config plus `listen
#            imap 127.0.0.1:PORT tls implicit`, a self-signed certificate,
#            the account's password set with `talon user passwd`); the
#            client logs in over implicit TLS (talon's only way), and its
#            commands reach the mailbox process through the login front,
#            which keeps the TLS and relays the bytes.
#   dovecot  scripts/dovecot-local.sh's imap-preauth on the copy
#            (bench/tmp/imap/dovecot-rR/): Dovecot's imap on pipes,
#            already logged in, no TLS, no relay.  Its index directory is
#            kept for the round (DOVECOT_INDEX_DIR), so the second session
#            finds what the first built, as it would on a real server.
#
# bench/imap_load.py runs the same two sessions against each (the order of
# the servers alternates from round to round) and times each command from
# the write of its line to its tagged OK:
#   select_first_ms  session 1: the first SELECT INBOX (new/ -> cur/, UIDs
#                    assigned, dovecot-uidlist written)
#   select_again_ms  session 2: SELECT INBOX again, in a new session
#   fetch_flags_ms   UID FETCH 1:* (UID FLAGS)
#   fetch_env_ms     UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE)
#   fetch_hdr_ms     UID FETCH 1:* BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)]
#   fetch_body_ms    UID FETCH 1:500 BODY.PEEK[] (and fetch_body_mb_s)
#   search_text_ms   UID SEARCH TEXT "quokkaberry" (a word in 1% of the messages)
#   store_ms         UID STORE 1:1000 +FLAGS.SILENT (\Seen)
#   rss_kb           the serving process's VmRSS after the fetches (talon:
#                    the mailbox process; dovecot: its imap process)
#   idle_rss_kb      the same, session 1 logged in and idle, before SELECT
# and, per command, the serving process's CPU (X_cpu_ms), talon's front's
# (X_front_cpu_ms: TLS and the relay) and the client's own (X_client_cpu_ms),
# from /proc in clock ticks.
#
# Checks: every tagged reply OK; N EXISTS; N FETCH lines for each 1:*
# FETCH, UIDs 1..N; the RFC822.SIZE sum equals the generator's CRLF size;
# SEARCH finds exactly the messages the word was put in; after the STORE,
# UID SEARCH SEEN finds 1..1000; the header and body literals, and the
# SEARCH hits, hash the same for both servers; new/ is empty afterwards
# and the uidlist holds N entries; neither log has an error.  A failed check
# is printed (check_...=no, and a line on stderr): a bench that measures
# errors is worthless.
#
# Printed: key=value lines per round and server, the round's checks, the
# medians per server, the ratios talon/dovecot (taken within each round,
# then the median), then a small table.  Talon's figures include TLS and
# the relay through the login front; Dovecot's are a pipe.  Both Maildirs
# are in the page cache (just copied): these are warm-cache figures.
#
# Usage:  bench/imap.sh                   (as root; builds build/talon if
#                                          missing, unpacks Dovecot privately)
# Env:    MSGS=10000 R=3 TIMEOUT=3600 (whole script, s) CMD_TIMEOUT=300
#         (one command, s) STALL=30 (s without a byte in the middle of a
#         reply: the command failed, the next one gets a new session)
#         TALON=build/talon
# Never run by CI.  Prints figures, asserts nothing.
set -u
. "$(dirname "$0")/lib.sh"

MSGS=${MSGS:-10000}
R=${R:-3}
TIMEOUT=${TIMEOUT:-3600}
CMD_TIMEOUT=${CMD_TIMEOUT:-300}
STALL=${STALL:-30}
[[ "$MSGS" =~ ^[0-9]+$ && "$MSGS" -ge 1 && "$MSGS" -le 200000 ]] || die "MSGS must be 1..200000"
[[ "$R" =~ ^[0-9]+$ && "$R" -ge 1 && "$R" -le 15 ]] || die "R must be 1..15"
[[ "$TIMEOUT" =~ ^[0-9]+$ && "$TIMEOUT" -ge 60 && "$TIMEOUT" -le 86400 ]] ||
	die "TIMEOUT must be 60..86400"
[[ "$CMD_TIMEOUT" =~ ^[0-9]+$ && "$CMD_TIMEOUT" -ge 5 && "$CMD_TIMEOUT" -le 3600 ]] ||
	die "CMD_TIMEOUT must be 5..3600"
[[ "$STALL" =~ ^[0-9]+$ && "$STALL" -ge 1 && "$STALL" -le "$CMD_TIMEOUT" ]] ||
	die "STALL must be 1..CMD_TIMEOUT"

SEED=14
WORD=quokkaberry
USER_NAME=bench                 # talon_write_conf's account
STORE_USER=_talonmail           # talon's deliver-user, the store's owner
FIGURES=(select_first_ms select_again_ms fetch_flags_ms fetch_env_ms fetch_hdr_ms
	fetch_body_ms fetch_body_mb_s search_text_ms store_ms rss_kb idle_rss_kb)
COMMANDS=(select_first select_again fetch_flags fetch_env fetch_hdr fetch_body search_text store)

need_root
lock imap
WORK="$BENCH_TMP/imap"
on_exit() {
	client_stop
	talon_stop
	watchdog_stop
}
trap on_exit EXIT
trap 'exit 130' INT TERM
watchdog_start "$TIMEOUT"

fs=$(check_scratch_fs)
ensure_talon
# the roles an imap listener adds run as these (scripts/install-deps.sh
# creates them; so do we when they are missing)
for u in _talonpol "$STORE_USER" _talonauth _talonimap; do ensure_user "$u"; done
command -v openssl >/dev/null || die "openssl is missing (scripts/install-deps.sh)"
PREAUTH=$("$REPO_DIR/scripts/dovecot-local.sh") || die "scripts/dovecot-local.sh failed"
[ -x "$PREAUTH" ] || die "no imap-preauth at '$PREAUTH'"
DOVECOT_VERSION=$(sed -n 's/^dovecot-core //p' "$(dirname "$PREAUTH")/extracted" 2>/dev/null)
mkdir -p "$WORK"

# --- the certificate, the password, the pristine Maildir -------------------------

bench_cert_password "$WORK"

PRISTINE="$WORK/pristine"
stamp="msgs=$MSGS seed=$SEED word=$WORD gen=$(md5sum <"$BENCH_DIR/gen-maildir.py" | cut -c1-12)"
if [ "$(cat "$PRISTINE/stamp" 2>/dev/null)" != "$stamp" ] || [ ! -d "$PRISTINE/Maildir/new" ]; then
	say "bench: generating $MSGS messages into $PRISTINE/Maildir/new"
	rm -rf "$PRISTINE"
	mkdir -p "$PRISTINE"
	t0=$(now)
	timeout "$(time_left)" /usr/bin/python3 "$BENCH_DIR/gen-maildir.py" "$PRISTINE/Maildir" \
		--count "$MSGS" --seed "$SEED" --word "$WORD" --host bench.test \
		--user "$USER_NAME" \
		>"$PRISTINE/gen.txt" || die "gen-maildir.py failed"
	chown -R "$STORE_USER:$STORE_USER" "$PRISTINE/Maildir"
	echo "$stamp" >"$PRISTINE/stamp"
	say "bench: generated in $(elapsed "$t0") s: $(cat "$PRISTINE/gen.txt")"
fi
GEN=$(cat "$PRISTINE/gen.txt")
[ "$(count_files "$PRISTINE/Maildir/new")" = "$MSGS" ] ||
	die "$PRISTINE/Maildir/new does not hold $MSGS files; remove $PRISTINE and run again"
GEN_VBYTES=$(kv vbytes "$GEN")
GEN_HITS=$(kv word_hits "$GEN")

# copy_maildir DEST: the pristine Maildir at DEST (a fresh copy, owners,
# modes and times kept: INTERNALDATE is the file's mtime)
copy_maildir() {
	rm -rf "$1"
	mkdir -p "$(dirname "$1")"
	cp -a "$PRISTINE/Maildir" "$1" || die "cp -a $PRISTINE/Maildir $1 failed"
}

# maildir_state DIR: what the first SELECT left: files still in new/,
# files in cur/, entries of dovecot-uidlist (lines but its header)
maildir_state() {
	local ul=0
	[ -f "$1/dovecot-uidlist" ] && ul=$(($(wc -l <"$1/dovecot-uidlist") - 1))
	echo "new_left=$(count_files "$1/new") cur=$(count_files "$1/cur") uidlist_entries=$ul"
}

# client ROUND LOG ARGS...: imap_load.py, bounded by what is left of the
# global timeout; in the background + wait so that a signal reaches
# on_exit at once.  Sets CLIENT_LINE to its "imap server=..." line and
# prints what went wrong as round=R server=S error="..." lines.
client() {
	local round=$1 log=$2 tmo srv
	shift 2
	srv=$1
	tmo=$(time_left)
	timeout -k 5 "$tmo" /usr/bin/python3 "$BENCH_DIR/imap_load.py" "$@" --count "$MSGS" \
		--word "$WORD" --timeout "$CMD_TIMEOUT" --stall "$STALL" >"$log" 2>&1 &
	CLIENT_PID=$!
	wait "$CLIENT_PID"
	CLIENT_PID=""
	CLIENT_LINE=$(grep '^imap server=' "$log" | tail -n1)
	[ -n "$CLIENT_LINE" ] || CLIENT_LINE="imap server=$srv n=$MSGS ok=no"
	grep -v '^imap server=' "$log" | head -n 20 |
		sed -e "s/^imap_load $srv: //" -e 's/"/\x27/g' \
		-e "s/^/round=$round server=$srv error=\"/" -e 's/$/"/'
}

# --- one server, one round ------------------------------------------------------------

# run_talon ROUND: prints the result line; talon is stopped by the caller
run_talon() {
	local round=$1 dir="$WORK/talon-r$1" port iport dead mbox front
	port=$(free_port)
	iport=$(free_port)
	[ "$iport" != "$port" ] || iport=$(free_port)
	dead=$(free_port)
	for _ in 1 2 3 4 5; do
		[ "$dead" != "$port" ] && [ "$dead" != "$iport" ] && break
		dead=$(free_port)
	done
	talon_write_conf "$dir" "$port"
	# The smtp listener gets STARTTLS only so that the daemon builds its
	# TLS context: talon (as of this bench) builds it for TLS on an smtp
	# listener, not for an imap listener alone, and the front then fails
	# every handshake.  Nothing here speaks SMTP.
	sed -i "s/^listen smtp \(.*\) tls none\$/listen smtp \1 tls starttls/" "$dir/talon.conf"
	cat >>"$dir/talon.conf" <<CONF
listen imap 127.0.0.1:$iport tls implicit
tls-cert $WORK/cert/cert.pem
tls-key $WORK/cert/key.pem
# IMAP resolves nothing; this only keeps the policy process off the
# system resolver (nothing listens there: nothing leaves loopback)
resolver forward 127.0.0.1@$dead
CONF
	"$TALON" -c "$dir/talon.conf" user passwd "$USER_NAME" <"$WORK/password" >/dev/null ||
		{ say "bench: talon user passwd $USER_NAME failed"; return 1; }
	mkdir -p "$dir/store/$USER_NAME"
	chown "$STORE_USER:$STORE_USER" "$dir/store" "$dir/store/$USER_NAME"
	chmod 700 "$dir/store" "$dir/store/$USER_NAME"
	copy_maildir "$dir/store/$USER_NAME/Maildir"
	talon_start "$dir" "$port" ||
		{ say "bench: talon did not start (see $dir/talon.log)"; return 1; }
	if ! wait_log "$dir/talon.log" "imap event=start listeners=1" 20 ||
	    ! wait_log "$dir/talon.log" "auth event=users .*with_password=1" 20 ||
	    ! wait_port "$iport" 10; then
		say "bench: talon's imap listener is not ready (see $dir/talon.log)"
		return 1
	fi
	mbox=$(role_pid "$dir" mailbox)
	front=$(role_pid "$dir" imap)
	[[ "$mbox" =~ ^[0-9]+$ && "$front" =~ ^[0-9]+$ ]] ||
		{ say "bench: cannot find talon's mailbox and imap processes"; return 1; }
	client "$round" "$dir/client.log" talon --port "$iport" --user "$USER_NAME" \
		--password-file "$WORK/password" --pid "$mbox" --front-pid "$front"
	echo "round=$round ${CLIENT_LINE#imap } $(maildir_state "$dir/store/$USER_NAME/Maildir")" \
		"log_errors=$(grep -cE ' (err|crit|alert|emerg):' "$dir/talon.log")"
}

# run_dovecot ROUND: prints the result line
run_dovecot() {
	local round=$1 dir="$WORK/dovecot-r$1" bad
	copy_maildir "$dir/Maildir"
	rm -rf "$dir/index"
	: >"$dir/dovecot.log"
	DOVECOT_INDEX_DIR="$dir/index" client "$round" "$dir/client.log" dovecot \
		--preauth "$PREAUTH" --maildir "$dir/Maildir" --log "$dir/dovecot.log"
	bad=$(grep -cE '\b(Error|Warning|Panic|Fatal)\b|imap-preauth:' "$dir/dovecot.log")
	echo "round=$round ${CLIENT_LINE#imap } $(maildir_state "$dir/Maildir") log_errors=$bad"
}

# --- the rounds ---------------------------------------------------------------------------

# same A B: yes when both are set, not n/a, and equal
same() { [ -n "$1" ] && [ "$1" != n/a ] && [ "$1" = "$2" ] && echo yes || echo no; }

say "bench: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); MSGS=$MSGS R=$R;" \
	"talon: $TALON; dovecot $DOVECOT_VERSION: $PREAUTH; scratch: $fs"
echo "$GEN"
echo "note=\"talon: implicit TLS on 127.0.0.1 and the relay through the login front are in" \
	"every talon figure; dovecot: imap on a pipe, PREAUTH, no TLS, no relay\""
echo "note=\"warm page cache (each Maildir copied just before); login time not measured;" \
	"client: one Python process on the same 2 cores\""

declare -A V=()     # "server key" -> the rounds' values; "ratio key" -> the rounds' ratios
LINE_FILE="$WORK/line.txt"
CHECKS_BAD=0
done_rounds=0
for ((round = 1; round <= R; round++)); do
	if ((round > 1)) && [ "$(time_left)" -lt 60 ]; then
		say "bench: under 60 s of the global timeout left: stopping after" \
			"$done_rounds round(s)"
		break
	fi
	echo "== round $round/$R =="
	echo "round=$round loadavg=$(cut -d' ' -f1 /proc/loadavg)"
	order=(talon dovecot)
	((round % 2 == 0)) && order=(dovecot talon)
	declare -A L=()
	for srv in "${order[@]}"; do
		# not in $(...): talon must run in this shell, where the traps can stop it
		: >"$LINE_FILE"
		"run_$srv" "$round" >"$LINE_FILE" || say "bench: round $round, $srv failed"
		[ "$srv" = talon ] && talon_stop
		cat "$LINE_FILE"
		L[$srv]=$(grep "^round=$round server=$srv n=" "$LINE_FILE" | tail -n1)
		[ -n "${L[$srv]}" ] || L[$srv]="round=$round server=$srv ok=no"
		for k in "${FIGURES[@]}"; do
			V["$srv $k"]+="$(kv "$k" "${L[$srv]}") "
		done
		for c in "${COMMANDS[@]}"; do
			V["$srv ${c}_cpu_ms"]+="$(kv "${c}_cpu_ms" "${L[$srv]}") "
			V["$srv ${c}_front_cpu_ms"]+="$(kv "${c}_front_cpu_ms" "${L[$srv]}") "
		done
	done
	t=${L[talon]} d=${L[dovecot]}
	chk="round=$round checks"
	chk+=" talon_ok=$(same "$(kv ok "$t")" yes) dovecot_ok=$(same "$(kv ok "$d")" yes)"
	chk+=" hdr_same=$(same "$(kv hdr_sha "$t")" "$(kv hdr_sha "$d")")"
	chk+=" body_same=$(same "$(kv body_sha "$t")" "$(kv body_sha "$d")")"
	chk+=" search_same=$(same "$(kv search_sha "$t")" "$(kv search_sha "$d")")"
	chk+=" search_hits_as_generated=$(same "$(kv search_hits "$t"),$(kv search_hits "$d")" \
		"$GEN_HITS,$GEN_HITS")"
	chk+=" size_sum_as_generated=$(same "$(kv env_size_sum "$t"),$(kv env_size_sum "$d")" \
		"$GEN_VBYTES,$GEN_VBYTES")"
	chk+=" new_empty=$(same "$(kv new_left "$t"),$(kv new_left "$d")" 0,0)"
	chk+=" uidlist_full=$(same "$(kv uidlist_entries "$t"),$(kv uidlist_entries "$d")" \
		"$MSGS,$MSGS")"
	chk+=" logs_clean=$(same "$(kv log_errors "$t"),$(kv log_errors "$d")" 0,0)"
	echo "$chk"
	if [[ "$chk" == *=no* ]]; then
		CHECKS_BAD=$((CHECKS_BAD + 1))
		say "bench: round $round: a check failed ($(tr ' ' '\n' <<<"$chk" | grep '=no$' |
			tr '\n' ' ')); see $WORK/*-r$round/"
	fi
	out="round=$round ratio=talon/dovecot"
	for k in "${FIGURES[@]}"; do
		q=$(div "$(kv "$k" "$t")" "$(kv "$k" "$d")" %.3f)
		V["ratio $k"]+="$q "
		out+=" $k=$q"
	done
	echo "$out"
	unset L
	done_rounds=$round
done

echo
echo "== medians over $done_rounds round(s): MSGS=$MSGS =="
for who in talon dovecot ratio; do
	if [ "$who" = ratio ]; then out="median rounds=$done_rounds ratio=talon/dovecot"
	else out="median rounds=$done_rounds server=$who"; fi
	for k in "${FIGURES[@]}"; do
		# shellcheck disable=SC2086  # the values, one word each
		out+=" $k=$(median ${V["$who $k"]:-})"
	done
	echo "$out"
done

for who in talon dovecot; do
	out="median rounds=$done_rounds server=$who"
	for c in "${COMMANDS[@]}"; do
		# shellcheck disable=SC2086
		out+=" ${c}_cpu_ms=$(median ${V["$who ${c}_cpu_ms"]:-})"
		[ "$who" = talon ] || continue
		# shellcheck disable=SC2086
		out+=" ${c}_front_cpu_ms=$(median ${V["$who ${c}_front_cpu_ms"]:-})"
	done
	echo "$out"
done

echo
printf '%-18s %12s %12s %14s\n' figure talon dovecot talon/dovecot
for k in "${FIGURES[@]}"; do
	# shellcheck disable=SC2086
	printf '%-18s %12s %12s %14s\n' "$k" "$(median ${V["talon $k"]:-})" \
		"$(median ${V["dovecot $k"]:-})" "$(median ${V["ratio $k"]:-})"
done
echo "(ms unless named; medians; the ratio is the median of the rounds' ratios;" \
	"talon = TLS + front relay + mailbox process, dovecot = imap on a pipe;" \
	"rss = the mailbox process vs. Dovecot's imap process)"
echo
printf '%-18s %12s %12s %12s\n' "CPU (ms)" "talon mbox" "talon front" "dovecot"
for c in "${COMMANDS[@]}"; do
	# shellcheck disable=SC2086
	printf '%-18s %12s %12s %12s\n' "$c" "$(median ${V["talon ${c}_cpu_ms"]:-})" \
		"$(median ${V["talon ${c}_front_cpu_ms"]:-})" \
		"$(median ${V["dovecot ${c}_cpu_ms"]:-})"
done
echo "(the serving processes' user+sys during each command, from /proc in ticks of" \
	"$((1000 / $(getconf CLK_TCK))) ms: on a loaded machine the CPU says more than" \
	"the wall time)"
[ "$CHECKS_BAD" = 0 ] ||
	say "bench: WARNING: checks failed in $CHECKS_BAD round(s): figures above" \
		"measure errors there"
