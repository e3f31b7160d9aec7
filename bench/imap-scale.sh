#!/bin/bash
# bench/imap-scale.sh - talon's IMAP server at scale: a 100,000-message
# INBOX, 1,000 idle TLS connections, and how soon a delivery reaches a
# client in IDLE.  Over 127.0.0.1 only; prints figures, asserts nothing.
#
# One talon (bench/tmp/imap-scale/talon/, as root with its normal privilege
# separation: lib.sh's config plus `listen imap 127.0.0.1:PORT tls
# implicit`, a self-signed certificate, `resolver forward` to our own DNS
# server, bench/authdns.sh, serving bench.test with SPF for 127.0.0.1 and
# the root zone) with these accounts, every one with the same password:
#   bench         INBOX = MSGS messages from bench/gen-maildir.py (default
#                 100,000, 2-20 KiB each, deliver's names
#                 TIME.QQIDIIDX.HOST,S=SIZE,W=VSIZE, all in new/; the word
#                 "quokkaberry" in 1% of them), generated once into
#                 bench/tmp/imap-scale/pristine-MSGS/ (kept while its stamp
#                 matches; 1.2 GB for 100,000: remove it to get the space
#                 back) and hard-linked into the store for each run
#                 (`cp -al`: the files are never written, only renamed)
#   idle000...    INBOX = IDLE_MSGS messages (default 100), ceil(COUNT /
#                 PER_USER) accounts
#
# Phase 1, talon started fresh, bench/imap_scale.py mailbox (each figure
# from the write of the command line to its tagged OK, through the TLS
# front and its relay):
#   select_first_ms       the first SELECT INBOX: new/ -> cur/, UIDs
#                         given, dovecot-uidlist written
#   select_warm_ms        SELECT in a new session, page cache warm, median
#                         of R (target <= 50 ms)
#   select_cold_ms        the same after `sync; echo 3 >
#                         /proc/sys/vm/drop_caches` (logged in first), median
#                         of R; n/a with cold_cache=unavailable(...) where
#                         the write fails or dovecot-uidlist stays in the
#                         page cache after it (fincore), as in some containers
#   fetch_flags_ms        UID FETCH 1:* (FLAGS), median of R (this and SEARCH
#                         timed to the last byte of the reply, split into
#                         lines afterwards: not Python's parsing)
#   search_text_first_ms  UID SEARCH TEXT "quokkaberry" right after the cold
#                         SELECTs (message files not cached when the drop
#                         worked); search_text_ms: median of 3 more
#   mailbox_rss_kb        VmRSS of the mailbox process with INBOX selected;
#                         mailbox_bytes_per_msg = (that - its RSS before the
#                         SELECT) / MSGS; mailbox_peak_rss_kb its VmHWM
# Phase 2, the same talon: imap_scale.py deliver: a session in IDLE on
#   bench's INBOX; K messages (default 20) over SMTP to bench@bench.test
#   (smtplib, no TLS), one at a time (GAP s apart), each timed from the SMTP
#   connect to the "* N EXISTS" (delivery_to_exists_ms, median, p90 nearest
#   rank) and from the 250 after DATA (after_250_ms); the mailbox
#   process's CPU per delivery.
# Phase 3, talon started again (no heap left over from the big INBOX):
#   the same K deliveries to idle000's small INBOX (deliver_small), then
#   imap_scale.py idle: COUNT sessions (default 1000; PER_USER per account,
#   default 10, the default `limit imap-connections-per-user`), each TLS,
#   LOGIN, SELECT INBOX, IDLE, all held by one asyncio loop (PARALLEL being
#   opened at once), after a warm-up of 10 opened and closed; the Pss sum
#   (/proc/PID/smaps_rollup) of talon's whole process tree before and after:
#   kb_per_conn (target <= 64), and split: the login front (role imap: TLS
#   and the relay), the mailbox process, the rest; kernel socket memory
#   apart (/proc/net/sockstat, both ends).  Then one delivery to idle000
#   must reach each of its PER_USER sessions (check_idle_notified).
#   PARK=select leaves each session right after its SELECT instead of in
#   IDLE: the difference is what the IDLE state itself keeps.
#
# Limits raised for it: `limit connections` and `connections-per-ip` to
# COUNT + 500 (at least 2000), `limit imap-connections-per-user` to PER_USER
# (at least 10), the open-files limit (inherited by talon, whose parent takes
# the hard limit) to 8 * COUNT + 4096: the front holds 2 descriptors per
# session, the mailbox process about 7 (socket, Maildir, mailbox dirs).
#
# PROFILE=1: perf record (cpu-clock, DWARF call graphs) and strace -c on
# the mailbox process around one more warm SELECT, UID FETCH 1:*, SEARCH
# and delivery to the big INBOX in IDLE (extra runs: not in the figures;
# the delivery's window is the SMTP transaction, the EXISTS and GAP s
# after, so it holds both syncs); the top of each report is printed
# (self time; time with callees in talon's own functions), the files stay
# in bench/tmp/imap-scale/profile/.
#
# Usage:  bench/imap-scale.sh               (as root; builds build/talon if
#                                            missing)
#         MSGS=20000 COUNT=200 bench/imap-scale.sh   (a smaller look)
# Env:    MSGS=100000 R=5 COUNT=1000 PER_USER=10 IDLE_MSGS=100 K=20 GAP=1
#         DROP=1 (0: no drop_caches; it empties the page cache of the whole
#         machine) PROFILE=0 PARALLEL=8 PARK=idle (select) TIMEOUT=5400 (whole
#         script, s)
#         CMD_TIMEOUT=900 (one command, s) STALL=120 TALON=build/talon
# Never run by CI.  Prints figures, asserts nothing.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authdns.sh"

MSGS=${MSGS:-100000}
R=${R:-5}
COUNT=${COUNT:-1000}
PER_USER=${PER_USER:-10}
IDLE_MSGS=${IDLE_MSGS:-100}
K=${K:-20}
GAP=${GAP:-1}
DROP=${DROP:-1}
PROFILE=${PROFILE:-0}
PARALLEL=${PARALLEL:-8}
PARK=${PARK:-idle}
TIMEOUT=${TIMEOUT:-5400}
CMD_TIMEOUT=${CMD_TIMEOUT:-900}
STALL=${STALL:-120}
int_in() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
int_in "$MSGS" 100 1000000 || die "MSGS must be 100..1000000"
int_in "$R" 1 50 || die "R must be 1..50"
int_in "$COUNT" 1 20000 || die "COUNT must be 1..20000"
int_in "$PER_USER" 1 1000 || die "PER_USER must be 1..1000 (limit imap-connections-per-user)"
int_in "$IDLE_MSGS" 1 100000 || die "IDLE_MSGS must be 1..100000"
int_in "$K" 1 1000 || die "K must be 1..1000"
int_in "$GAP" 0 30 || die "GAP must be 0..30 (s)"
int_in "$PARALLEL" 1 64 || die "PARALLEL must be 1..64"
[ "$PARK" = idle ] || [ "$PARK" = select ] || die "PARK must be idle or select"
int_in "$TIMEOUT" 60 86400 || die "TIMEOUT must be 60..86400"
int_in "$CMD_TIMEOUT" 10 7200 || die "CMD_TIMEOUT must be 10..7200"
int_in "$STALL" 1 "$CMD_TIMEOUT" || die "STALL must be 1..CMD_TIMEOUT"
N_USERS=$(((COUNT + PER_USER - 1) / PER_USER))
[ "$N_USERS" -le 1000 ] ||
	die "COUNT / PER_USER gives $N_USERS accounts: at most 1000 (raise PER_USER)"

SEED=14
WORD=quokkaberry
STORE_USER=_talonmail           # talon's deliver-user, the store's owner
CONNS=$((COUNT + 500 > 2000 ? COUNT + 500 : 2000))
USER_LIMIT=$((PER_USER > 10 ? PER_USER : 10))
NOFILE=$((COUNT * 8 + 4096))

need_root
lock imap-scale
WORK="$BENCH_TMP/imap-scale"
DIR="$WORK/talon"
on_exit() {
	client_stop
	talon_stop
	authdns_stop
	watchdog_stop
}
trap on_exit EXIT
trap 'exit 130' INT TERM
watchdog_start "$TIMEOUT"

fs=$(check_scratch_fs)
ensure_talon
ensure_auth_users
for u in _talonauth _talonimap; do ensure_user "$u"; done
command -v openssl >/dev/null || die "openssl is missing (scripts/install-deps.sh)"
if [ "$PROFILE" = 1 ]; then
	for t in perf:linux-perf strace:strace; do
		command -v "${t%%:*}" >/dev/null && continue
		say "bench: installing ${t#*:} (PROFILE=1)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${t#*:}" >/dev/null ||
			die "apt-get install ${t#*:} failed"
	done
fi
# talon's parent raises its soft limit to the hard one: give room to both
# (never lowering a hard limit that is already higher)
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$NOFILE" ]; then
	ulimit -Hn "$NOFILE" 2>/dev/null
fi
[ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$NOFILE" ] &&
	{ ulimit -n "$NOFILE" 2>/dev/null ||
		say "bench: cannot raise the open-files limit to $NOFILE (now $(ulimit -n))"; }
mkdir -p "$WORK"
say "bench: scratch $WORK: $(df -h --output=avail "$WORK" | tail -n1 | tr -d ' ') free"

# --- the certificate, the password, the Maildirs -----------------------------------

bench_cert_password "$WORK"

# pristine NAME COUNT SEED: bench/tmp/imap-scale/NAME/Maildir with COUNT
# messages in new/, generated unless its stamp matches; prints gen's line
pristine() {
	local d="$WORK/$1" stamp t0
	stamp="msgs=$2 seed=$3 word=$WORD gen=$(md5sum <"$BENCH_DIR/gen-maildir.py" | cut -c1-12)"
	if [ "$(cat "$d/stamp" 2>/dev/null)" != "$stamp" ] || [ ! -d "$d/Maildir/new" ]; then
		say "bench: generating $2 messages into $d/Maildir/new"
		rm -rf "$d"
		mkdir -p "$d"
		t0=$(now)
		timeout "$(time_left)" /usr/bin/python3 "$BENCH_DIR/gen-maildir.py" "$d/Maildir" \
			--count "$2" --seed "$3" --word "$WORD" --host bench.test --user bench \
			>"$d/gen.txt" || die "gen-maildir.py failed"
		chown -R "$STORE_USER:$STORE_USER" "$d/Maildir"
		echo "$stamp" >"$d/stamp"
		say "bench: generated in $(elapsed "$t0") s: $(cat "$d/gen.txt")"
	fi
	[ "$(count_files "$d/Maildir/new")" = "$2" ] ||
		die "$d/Maildir/new does not hold $2 files; remove $d and run again"
	cat "$d/gen.txt"
}
# one directory per size: a smaller look does not throw the 100,000 away
GEN=$(pristine "pristine-$MSGS" "$MSGS" "$SEED") || exit 1
GEN_SMALL=$(pristine "small-$IDLE_MSGS" "$IDLE_MSGS" 15) || exit 1

# link_maildir SRC USER: SRC's Maildir hard-linked as USER's (a fresh copy
# of the directories; the files are shared, and talon only renames them)
link_maildir() {
	local dest="$DIR/store/$2"
	mkdir -p "$dest"
	cp -al "$1/Maildir" "$dest/Maildir" || die "cp -al $1/Maildir $dest/Maildir failed"
	chown "$STORE_USER:$STORE_USER" "$dest"
	chmod 700 "$dest"
}

# --- our DNS server and talon's config ----------------------------------------------

DNSDIR="$WORK/dns"
authdns_conf "$DNSDIR"
{
	printf '$ORIGIN bench.test.\n$TTL 3600\n'
	printf '@ IN SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 3600\n'
	printf '  IN NS ns.bench.test.\nns IN A 127.0.0.1\nprobe IN A 127.0.0.1\n'
	printf '@ IN TXT "v=spf1 ip4:127.0.0.1 -all"\n'
} >"$DNSDIR/bench.zone"
authdns_zone "$DNSDIR" bench.test bench.zone
authdns_start "$DNSDIR" probe.bench.test || die "our DNS server did not start"

PORT=$(free_port)
IPORT=$(free_port)
[ "$IPORT" != "$PORT" ] || IPORT=$(free_port)
talon_write_conf "$DIR" "$PORT"
# STARTTLS on the smtp listener only so that talon builds its TLS context
# (see imap.sh); the deliveries below do not use it
sed -i -e "s/^listen smtp \(.*\) tls none\$/listen smtp \1 tls starttls/" \
	-e "s/^limit connections .*/limit connections $CONNS/" \
	-e "s/^limit connections-per-ip .*/limit connections-per-ip $CONNS/" "$DIR/talon.conf"
cat >>"$DIR/talon.conf" <<CONF
listen imap 127.0.0.1:$IPORT tls implicit
tls-cert $WORK/cert/cert.pem
tls-key $WORK/cert/key.pem
resolver forward 127.0.0.1@$AUTHDNS_PORT
limit imap-connections-per-user $USER_LIMIT
CONF
"$TALON" -c "$DIR/talon.conf" user passwd bench --password-file "$WORK/password" >/dev/null ||
	die "talon user passwd bench failed"
IDLE_USERS=""
say "bench: $N_USERS idle accounts (talon user add, a password hash each)"
for ((i = 0; i < N_USERS; i++)); do
	u=$(printf 'idle%03d' "$i")
	"$TALON" -c "$DIR/talon.conf" user add "$u" --password-file "$WORK/password" >/dev/null ||
		die "talon user add $u failed"
	IDLE_USERS+="${IDLE_USERS:+,}$u"
done
mkdir -p "$DIR/store"
chown "$STORE_USER:$STORE_USER" "$DIR/store"
chmod 700 "$DIR/store"
t0=$(now)
link_maildir "$WORK/pristine-$MSGS" bench
for u in ${IDLE_USERS//,/ }; do link_maildir "$WORK/small-$IDLE_MSGS" "$u"; done
say "bench: Maildirs linked in $(elapsed "$t0") s"

# start_talon: talon on $DIR, ready for IMAP; sets MBOX, FRONT, ROLES
start_talon() {
	talon_start "$DIR" "$PORT" || die "talon did not start (see $DIR/talon.log)"
	if ! wait_log "$DIR/talon.log" "imap event=start listeners=1" 20 ||
	    ! wait_log "$DIR/talon.log" "auth event=users .*with_password=" 20 ||
	    ! wait_port "$IPORT" 10; then
		die "talon's imap listener is not ready (see $DIR/talon.log)"
	fi
	MBOX=$(role_pid "$DIR" mailbox)
	FRONT=$(role_pid "$DIR" imap)
	[[ "$MBOX" =~ ^[0-9]+$ && "$FRONT" =~ ^[0-9]+$ ]] ||
		die "cannot find talon's mailbox and imap processes"
	# every process `talon status` names (two smtp workers, ...), for the
	# per-process lines
	ROLES="talon=$TALON_PID,$("$TALON" -c "$DIR/talon.conf" status 2>/dev/null |
		awk '$3 ~ /^[0-9]+$/ { printf "%s%s=%s", n++ ? "," : "", $1, $3 }')"
	[[ "$ROLES" == *"imap=$FRONT"* ]] || ROLES+=",imap=$FRONT,mailbox=$MBOX"
}

# log_errors: err lines (and worse) in talon's log so far
log_errors() { grep -cE ' (err|crit|alert|emerg):| level=(err|crit)' "$DIR/talon.log"; }

# client NAME MODE ARGS...: imap_scale.py MODE ARGS, bounded by what is
# left of the global timeout, in the background + wait (a signal reaches
# on_exit at once); its stdout and stderr go to $WORK/NAME.log, its
# "scale ..." lines to stdout.  Sets LINE to its last "scale MODE" line.
client() {
	local name=$1 log="$WORK/$1.log"
	shift
	timeout -k 5 "$(time_left)" /usr/bin/python3 "$BENCH_DIR/imap_scale.py" "$@" \
		--port "$IPORT" --password-file "$WORK/password" --timeout "$CMD_TIMEOUT" \
		--stall "$STALL" >"$log" 2>&1 &
	CLIENT_PID=$!
	wait "$CLIENT_PID"
	CLIENT_PID=""
	grep '^scale ' "$log"
	grep -v '^scale ' "$log" | head -n 20 | sed "s/^/$name: /" >&2
	LINE=$(grep "^scale $1 " "$log" | tail -n1)
	[ -n "$LINE" ] || LINE="scale $1 ok=no"
}

say "bench: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); MSGS=$MSGS R=$R" \
	"COUNT=$COUNT PER_USER=$PER_USER IDLE_MSGS=$IDLE_MSGS K=$K; talon: $TALON; scratch: $fs"
echo "$GEN"
echo "idle_maildir ${GEN_SMALL#gen }"
echo "note=\"every figure through implicit TLS on 127.0.0.1 and talon's login front (relay);" \
	"client: Python on the same cores; a shared, loaded VM: quote orders of magnitude\""
echo "machine cores=$(nproc) loadavg=$(cut -d' ' -f1 /proc/loadavg)" \
	"mem_total_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"

# --- phase 1 and 2: the big INBOX -------------------------------------------------

PROF_DIR="$WORK/profile"
rm -rf "$PROF_DIR"
prof_args=()
if [ "$PROFILE" = 1 ]; then
	mkdir -p "$PROF_DIR"
	prof_args=(--profile-dir "$PROF_DIR")
fi
drop_args=()
[ "$DROP" = 1 ] && drop_args=(--drop-caches --maildir "$DIR/store/bench/Maildir")

echo "== phase 1: SELECT, FETCH, SEARCH on $MSGS messages =="
start_talon
echo "talon pid=$TALON_PID roles=$ROLES"
client mailbox mailbox --user bench --count "$MSGS" --word "$WORD" --reps "$R" \
	--pid "$MBOX" --front-pid "$FRONT" "${drop_args[@]}" "${prof_args[@]}"
L_MBOX=$LINE
echo "== phase 2: delivery to EXISTS, IDLE on the $MSGS-message INBOX =="
client deliver_big deliver --user bench --smtp-port "$PORT" --k "$K" --gap "$GAP" \
	--pid "$MBOX" "${prof_args[@]}"
L_BIG=$LINE
md="$DIR/store/bench/Maildir"
ul=$(($(wc -l <"$md/dovecot-uidlist") - 1))
echo "maildir new_left=$(count_files "$md/new") cur=$(count_files "$md/cur")" \
	"uidlist_entries=$ul uidlist_bytes=$(stat -c %s "$md/dovecot-uidlist")" \
	"log_errors=$(log_errors)"
ERR1=$(log_errors)
cp "$DIR/talon.log" "$WORK/talon-phase12.log"
talon_stop

# --- phase 3: small INBOXes, many idle connections ----------------------------------

echo "== phase 3: $COUNT connections parked in $PARK ($N_USERS accounts," \
	"$IDLE_MSGS messages each) =="
start_talon
echo "talon pid=$TALON_PID roles=$ROLES"
client deliver_small deliver --user idle000 --smtp-port "$PORT" --k "$K" --gap "$GAP" \
	--pid "$MBOX"
L_SMALL=$LINE
client idle idle --count "$COUNT" --users "$IDLE_USERS" --per-user "$PER_USER" \
	--root "$TALON_PID" --roles "$ROLES" --smtp-port "$PORT" --parallel "$PARALLEL" \
	--park "$PARK" \
	--total-timeout "$(( $(time_left) > 60 ? $(time_left) - 30 : 30 ))"
L_IDLE=$LINE
ERR3=$(log_errors)
echo "talon log_errors phase12=$ERR1 phase3=$ERR3"
cp "$DIR/talon.log" "$WORK/talon-phase3.log"
talon_stop

# --- the profile ------------------------------------------------------------------

if [ "$PROFILE" = 1 ]; then
	for f in "$PROF_DIR"/*.perf.data; do
		[ -s "$f" ] || continue
		echo "== profile $(basename "$f" .perf.data): perf, mailbox process =="
		perf report -i "$f" --stdio --no-children --sort dso,symbol -g none \
			--percent-limit 1 2>/dev/null >"${f%.perf.data}.self.txt"
		grep -m1 '^# Samples' "${f%.perf.data}.self.txt"
		echo "-- self time (top 12) --"
		awk '/^ +[0-9.]+%/ { print $1, $2, $3, $4 }' "${f%.perf.data}.self.txt" | head -n 12
		# the trunk every sample shares (start-up, the event loop) says nothing
		echo "-- with callees, talon's own functions (top 15) --"
		perf report -i "$f" --stdio --children --dsos talon --sort symbol -g none \
			--percent-limit 2 2>/dev/null | awk '/^ +[0-9.]+%/ { print $1, $2, $3, $4 }' |
			grep -vE ' (_start|__libc_start_[a-z_]+|main|child_run|loop_run|mailbox_main|role_[a-z_]+)$' |
			head -n 15
	done
	for f in "$PROF_DIR"/*.strace.txt; do
		[ -s "$f" ] || continue
		echo "== profile $(basename "$f" .strace.txt): strace -c, mailbox process =="
		head -n 16 "$f"
	done
fi

# --- the summary ------------------------------------------------------------------

v() { local x; x=$(kv "$1" "$2"); echo "${x:-n/a}"; }
echo
echo "== imap-scale: MSGS=$MSGS R=$R COUNT=$COUNT K=$K ($(nproc) cores," \
	"load average $(cut -d' ' -f1 /proc/loadavg) at the end) =="
echo "checks mailbox=$(v ok "$L_MBOX") deliver_big=$(v ok "$L_BIG")" \
	"deliver_small=$(v ok "$L_SMALL") idle=$(v ok "$L_IDLE") log_errors=$ERR3"
printf '%-30s %14s  %s\n' figure value target
row() { local f=$1 v=$2; shift 2; printf '%-30s %14s  %s\n' "$f" "$v" "$*"; }
row select_first_ms "$(v select_first_ms "$L_MBOX")"
row select_warm_ms "$(v select_warm_ms "$L_MBOX")" "<= 50"
row select_cold_ms "$(v select_cold_ms "$L_MBOX")" "($(v cold_cache "$L_MBOX"))"
row fetch_flags_ms "$(v fetch_flags_ms "$L_MBOX")"
first_is="the first, no cache drop"
[[ "$(v cold_cache "$L_MBOX")" == drop_caches* ]] && first_is="after the drop"
row search_text_first_ms "$(v search_text_first_ms "$L_MBOX")" \
	"(hits $(v search_hits "$L_MBOX"), $first_is)"
row search_text_ms "$(v search_text_ms "$L_MBOX")"
row mailbox_rss_kb "$(v mailbox_rss_kb "$L_MBOX")" "(peak $(v mailbox_peak_rss_kb "$L_MBOX"))"
row mailbox_bytes_per_msg "$(v mailbox_bytes_per_msg "$L_MBOX")"
row idle_kb_per_conn "$(v kb_per_conn "$L_IDLE")" "<= 64 (Pss, whole tree)"
row "  front (imap)" "$(v front_kb_per_conn "$L_IDLE")"
row "  mailbox" "$(v mailbox_kb_per_conn "$L_IDLE")"
row "  other processes" "$(v others_kb_per_conn "$L_IDLE")"
row "  kernel TCP, both ends" "$(v kernel_tcp_kb_per_conn "$L_IDLE")" "(not in Pss)"
row "delivery_to_exists_ms (big)" \
	"$(v delivery_to_exists_ms "$L_BIG")" "p90 $(v delivery_to_exists_p90_ms "$L_BIG")"
row "  after the 250 (big)" "$(v after_250_ms "$L_BIG")" "p90 $(v after_250_p90_ms "$L_BIG");" \
	"mailbox CPU $(v mailbox_cpu_per_delivery_ms "$L_BIG") ms each"
row "delivery_to_exists_ms (small)" \
	"$(v delivery_to_exists_ms "$L_SMALL")" "p90 $(v delivery_to_exists_p90_ms "$L_SMALL")"
row "  after the 250 (small)" "$(v after_250_ms "$L_SMALL")" \
	"p90 $(v after_250_p90_ms "$L_SMALL");" \
	"mailbox CPU $(v mailbox_cpu_per_delivery_ms "$L_SMALL") ms each"
echo "(ms and KB; medians; through TLS and the login front; big = the $MSGS-message INBOX," \
	"small = $IDLE_MSGS messages; a shared 2-core VM: wall times move by 2x between runs)"
say "bench: scratch $WORK: $(df -h --output=avail "$WORK" | tail -n1 | tr -d ' ') free at the end"
