#!/bin/bash
# bench/smtp-throughput.sh - durable SMTP throughput of `talon serve`, and
# the latency of its 250 to the end of DATA, set against the disk's raw
# fsync ceiling and against Postfix, all measured in the same invocation on
# the same filesystem (bench/tmp/), over 127.0.0.1 only.
#
# The load is our own generator, bench/smtp_load.c (built into bench/tmp/
# like raw_fsync): SESSIONS threads send N messages of SIZE bytes to
# bench@bench.test, one message per connection (connect, 220, EHLO, MAIL,
# RCPT, DATA, message, ".", QUIT), each thread taking the next message from
# a shared counter.  For every message it times, on CLOCK_MONOTONIC, the
# write of the final ".\r\n" to the end of the 250 line: the time the server
# takes to make the message durable and say so.  p50/p99/max are over those
# same load messages (nearest rank, messages answered 250 only); failures
# (connect, timeout, non-2xx/3xx reply, broken connection) are counted
# apart (load_failed) and reported.  Every socket operation times out (30 s)
# and the load as a whole stops at LOAD_TIMEOUT.
#
# Each run:
#   1. raw_fsync (bench/raw_fsync.c): N 2 KB files, each open+write+fsync+
#      rename tmp/->new/+fsync(new/), sequentially and over 20 threads;
#   2. talon: a fresh instance (bench/tmp/talon-run/), `talon serve` under
#      /usr/bin/time -v, smtp_load sends N messages of SIZE bytes over
#      SESSIONS parallel connections; then we wait for N files in
#      store/bench/Maildir/new/, and stop talon with SIGTERM;
#   3. postfix: the same load against a private Postfix (bench/postfix-peer.sh);
#   4. null server (SINK=1): the same load against Postfix's smtp-sink, which
#      answers every command and throws the message away (no disk, no
#      checks, one process): what the load itself and the least SMTP work
#      cost this machine.
# Each prints a key=value line: throughput (accept_msgs_per_s: N / the load's
# wall time; delivered_msgs_per_s: N / time until N files are in the
# Maildir), CPU, memory, and lat_p50_ms/lat_p99_ms/lat_max_ms of the 250.
# Then medians over the runs (for latencies: the median of each run's p50,
# p99), and ratios taken within each run, then their median.
#
# The CPU floor (with SINK=1): per message, the generator's CPU + the null
# server's CPU + raw_fsync's CPU per file (20 threads): what any server
# that takes a message over SMTP and writes one durable file must burn on
# this machine, however little else it does.  cores x 1e6 / floor is the
# most messages per second the machine's CPUs allow; set against the raw
# 20-thread ceiling (cpu_bound / raw 20 threads), it says whether "half
# the ceiling" is reachable here at all (it is not when that is below 0.5).
#
# Mail authentication (CHECKS=on|off|both, default both): talon checks SPF
# at MAIL FROM and DKIM/DMARC at the end of DATA, over its resolver, which
# here always forwards to a DNS server of ours on loopback (bench/authdns.sh:
# a second talon serving the zones bench.test and ".", the latter so that
# every other name, the client's PTR included, gets a quick NXDOMAIN).
#   on:  talon with `resolver forward`; bench.test publishes SPF
#        ("v=spf1 ip4:127.0.0.1 -all"), DKIM keys (`talon dkim keygen`) and
#        DMARC p=reject; every message of the load is one message of SIZE
#        bytes of body signed once with `talon dkim sign` (DKIM_SIGS=both:
#        RSA-2048 and Ed25519, two signatures to verify; rsa or ed25519: one),
#        sent as is by smtp_load -F.  The first delivered message's
#        Authentication-Results is printed (auth=...): it must say pass.
#   off: OFF_MODE=base (default): a build of the commit before mail
#        authentication (BASE_COMMIT=8a14d19, `git archive` into
#        bench/tmp/base/ and `make build/talon` there, kept between
#        invocations), the same signed message, no resolver;
#        OFF_MODE=nxdomain (or when the base build is impossible): the same
#        binary as "on", an unsigned message from a sender domain with no
#        records (NXDOMAIN): the checks still run and find nothing, so this
#        measures the cost of DNS-backed checks of real records less than
#        "base" does.
# With both, each run measures on and off (alternating which goes first)
# and prints on/off ratios of throughput and p99.  The raw and Postfix
# ratios use "on" when it was measured.  The Postfix peer gets the plain
# generated messages (it checks nothing).
#
# Usage:  bench/smtp-throughput.sh          (as root; installs postfix for
#         the peer if missing, builds build/talon with make if missing)
# Env:    N=5000 RUNS=3 SESSIONS=20 SIZE=2048 PEER=1 (0: no Postfix)
#         SINK=1 (0: no null server)
#         CHECKS=both (on, off) OFF_MODE=base (nxdomain) BASE_COMMIT=8a14d19
#         DKIM_SIGS=both (rsa, ed25519)
#         RAW_FILES=$N LOAD_TIMEOUT=600 DELIVER_TIMEOUT=300 TALON=build/talon
# Never run by CI.  Prints figures, asserts nothing.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authdns.sh"

N=${N:-5000}
RUNS=${RUNS:-3}
SESSIONS=${SESSIONS:-20}
SIZE=${SIZE:-2048}
PEER=${PEER:-1}
SINK=${SINK:-1}
RAW_FILES=${RAW_FILES:-$N}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-600}
DELIVER_TIMEOUT=${DELIVER_TIMEOUT:-300}
CHECKS=${CHECKS:-both}
OFF_MODE=${OFF_MODE:-base}
BASE_COMMIT=${BASE_COMMIT:-8a14d19}
DKIM_SIGS=${DKIM_SIGS:-both}
case $CHECKS in on|off|both) ;; *) die "CHECKS must be on, off or both" ;; esac
case $OFF_MODE in base|nxdomain) ;; *) die "OFF_MODE must be base or nxdomain" ;; esac
case $DKIM_SIGS in both|rsa|ed25519) ;; *) die "DKIM_SIGS must be both, rsa or ed25519" ;; esac
[[ "$BASE_COMMIT" =~ ^[0-9a-f]{7,40}$ ]] || die "BASE_COMMIT must be a commit id (hex)"
[[ "$N" =~ ^[0-9]+$ && "$N" -ge 1 && "$N" -le 200000 ]] || die "N must be 1..200000"
[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -ge 1 && "$RUNS" -le 15 ]] || die "RUNS must be 1..15"
[[ "$SESSIONS" =~ ^[0-9]+$ && "$SESSIONS" -ge 1 && "$SESSIONS" -le 1000 ]] || die "SESSIONS must be 1..1000"
[[ "$RAW_FILES" =~ ^[0-9]+$ && "$RAW_FILES" -ge 1 && "$RAW_FILES" -le 200000 ]] || die "RAW_FILES must be 1..200000"

need_root
lock smtp-throughput
PEER_PID=""
RAW_PID=""
SINK_PID=""
RAWDIR="$BENCH_TMP/raw.$$"
on_exit() {
	[ -n "$RAW_PID" ] && { kill -TERM "$RAW_PID" 2>/dev/null; wait "$RAW_PID" 2>/dev/null; }
	rm -rf "$RAWDIR"
	[ -n "$PEER_PID" ] && { kill -TERM "$PEER_PID" 2>/dev/null; wait "$PEER_PID" 2>/dev/null; }
	stop_load
	[ -n "$SINK_PID" ] && { kill -TERM "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null; }
	talon_stop
	authdns_stop
	cleanup_policy_rc
}
trap on_exit EXIT
trap 'exit 130' INT TERM

fs=$(check_scratch_fs)
{ [ "$PEER" = 1 ] || [ "$SINK" = 1 ]; } && ensure_postfix
ensure_talon

build_load
RAW="$BENCH_TMP/raw_fsync"
if [ ! -x "$RAW" ] || [ "$BENCH_DIR/raw_fsync.c" -nt "$RAW" ]; then
	cc -O2 -Wall -Wextra -pthread -o "$RAW" "$BENCH_DIR/raw_fsync.c" || die "cannot build raw_fsync"
fi
ensure_auth_users

TDIR="$BENCH_TMP/talon-run"
ADIR="$BENCH_TMP/auth"            # keys, messages
DNSDIR="$BENCH_TMP/auth-dns"      # our DNS server
BASEDIR="$BENCH_TMP/base"         # the build without mail authentication
NX_FROM=sender@nx.bench-nx.test   # under no zone of ours but ".": NXDOMAIN

# build_base: $BASEDIR/build/talon from BASE_COMMIT (git archive: no write
# to the repository), reused while its stamp names the same commit; sets
# TALON_OFF, or returns 1
build_base() {
	local full
	full=$(git -C "$REPO_DIR" rev-parse --verify -q "$BASE_COMMIT^{commit}") ||
		{ say "bench: commit $BASE_COMMIT is not in $REPO_DIR (a shallow clone?)"; return 1; }
	if [ "$(cat "$BASEDIR/.commit" 2>/dev/null)" != "$full" ] || [ ! -x "$BASEDIR/build/talon" ]; then
		say "bench: building talon at $BASE_COMMIT (before mail authentication) in $BASEDIR"
		rm -rf "$BASEDIR"
		mkdir -p "$BASEDIR"
		git -C "$REPO_DIR" archive "$full" | tar -x -C "$BASEDIR" ||
			{ say "bench: git archive $BASE_COMMIT failed"; return 1; }
		make -s -C "$BASEDIR" -j"$(nproc)" build/talon >"$BASEDIR/build.log" 2>&1 ||
			{ say "bench: make in $BASEDIR failed (see $BASEDIR/build.log)"; return 1; }
		echo "$full" >"$BASEDIR/.commit"
	fi
	TALON_OFF="$BASEDIR/build/talon"
}

# make_message FILE FROM: a message like smtp_load's (From, To, Subject,
# Date, Message-ID, a body of SIZE bytes in lines of 78 letters + CRLF)
make_message() {
	/usr/bin/python3 - "$1" "$2" "$SIZE" <<'PY'
import sys
path, sender, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
head = ("From: <%s>\r\nTo: <bench@bench.test>\r\nSubject: smtp-throughput message\r\n"
        "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
        "Message-ID: <smtp-throughput.1@bench.test>\r\n\r\n" % sender)
body, line = [], 0
left = max(size, 2)
while left > 0:
    n = 78 if left >= 80 else left - 2
    body.append("".join(chars[(line + i) % len(chars)] for i in range(n)) + "\r\n")
    left -= n + 2
    line += 1
with open(path, "w", newline="") as f:
    f.write(head + "".join(body))
PY
}

# setup_auth: keys, the signed message, the zones, our DNS server
setup_auth() {
	local -a signers=()
	rm -rf "$ADIR"
	mkdir -p "$ADIR"
	"$TALON" dkim keygen bench.test bench --dir "$ADIR" >"$ADIR/keys.zone" ||
		die "talon dkim keygen failed"
	case $DKIM_SIGS in
	both|rsa) signers+=(-d bench.test -s bench -k "$ADIR/bench.bench.test.rsa.pem") ;;&
	both|ed25519) signers+=(-d bench.test -s bench-ed -k "$ADIR/bench-ed.bench.test.ed25519.pem") ;;
	esac
	make_message "$ADIR/plain.eml" sender@bench.test || die "cannot write the message"
	"$TALON" dkim sign "${signers[@]}" "$ADIR/plain.eml" >"$ADIR/signed.eml" ||
		die "talon dkim sign failed"
	make_message "$ADIR/nx.eml" "$NX_FROM" || die "cannot write the message"
	authdns_conf "$DNSDIR"
	{
		printf '$ORIGIN bench.test.\n$TTL 3600\n'
		printf '@ IN SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 3600\n'
		printf '  IN NS ns.bench.test.\nns IN A 127.0.0.1\nprobe IN A 127.0.0.1\n'
		printf '@ IN TXT "v=spf1 ip4:127.0.0.1 -all"\n'
		printf '_dmarc IN TXT "v=DMARC1; p=reject"\n'
		cat "$ADIR/keys.zone"
	} >"$DNSDIR/bench.zone"
	authdns_zone "$DNSDIR" bench.test bench.zone
	authdns_start "$DNSDIR" probe.bench.test || die "our DNS server did not start"
}

# one talon run, CHECKS-MODE on or off; prints its key=value line
talon_run() {
	local mode=$1 port t0 accept_s got delivered_s cpu_proc pss user sys maxrss newdir auth f
	local bin=$TALON_ON tag="checks=$mode"
	# shellcheck disable=SC2034  # read by run_load (lib.sh)
	LOAD_FILE="$ADIR/signed.eml" LOAD_FROM=sender@bench.test
	port=$(free_port)
	talon_write_conf "$TDIR" "$port"
	if [ "$mode" = off ] && [ "$OFF_MODE" = base ]; then
		bin=$TALON_OFF tag+=" off_mode=base"
	else
		echo "resolver forward 127.0.0.1@$AUTHDNS_PORT" >>"$TDIR/talon.conf"
		if [ "$mode" = off ]; then
			# shellcheck disable=SC2034  # read by run_load (lib.sh)
			LOAD_FILE="$ADIR/nx.eml" LOAD_FROM=$NX_FROM tag+=" off_mode=nxdomain"
		fi
	fi
	newdir="$TDIR/store/bench/Maildir/new"
	TALON=$bin
	talon_start "$TDIR" "$port" || { TALON=$TALON_ON; echo "talon $tag failed=start"; return 1; }
	t0=$(now)
	run_load "$port" "$N" "$SESSIONS" "$SIZE" "$LOAD_TIMEOUT" "$TDIR/load.log"
	accept_s=$(elapsed "$t0")
	got=$(wait_files "$newdir" "$N" "$DELIVER_TIMEOUT")
	delivered_s=$(elapsed "$t0")
	[ "$got" -lt "$N" ] && say "bench: only $got of $N messages in $newdir after the wait (see $TDIR/talon.log)"
	cpu_proc=$(tree_cpu "$TALON_PID")
	pss=$(tree_pss_kb "$TALON_PID")
	talon_stop
	TALON=$TALON_ON
	user=$(time_v "$TDIR/time.txt" "User time (seconds)")
	sys=$(time_v "$TDIR/time.txt" "System time (seconds)")
	maxrss=$(time_v "$TDIR/time.txt" "Maximum resident set size (kbytes)")
	# what the checks said about one delivered message (none: base build)
	f=$(find "$newdir" -maxdepth 1 -type f 2>/dev/null | head -n1)
	auth=$([ -n "$f" ] && sed -n '/^Authentication-Results:/,/^[^ \t]/p' "$f" |
		grep -oE '(^|[;[:space:]])(spf|dkim|dmarc)=[a-z]+' | sed 's/^[;[:space:]]*//' | paste -sd, -)
	echo "talon $tag messages=$N accept_s=$accept_s accept_msgs_per_s=$(div "$N" "$accept_s")" \
		"delivered=$got delivered_s=$delivered_s delivered_msgs_per_s=$(div "$got" "$delivered_s")" \
		"cpu_s=$(awk -v u="${user:-0}" -v s="${sys:-0}" 'BEGIN { printf "%.2f", u + s }')" \
		"cpu_proc_s=$cpu_proc maxrss_kb=${maxrss:-n/a} pss_kb_end=$pss $(load_keys) auth=${auth:-none}"
}

# one null-server run: Postfix's smtp-sink (as nobody) under the same load
# and message as talon's; prints its key=value line
sink_run() {
	local port t0 wall hz cpu
	port=$(free_port)
	# shellcheck disable=SC2034  # read by run_load (lib.sh)
	LOAD_FILE="$ADIR/signed.eml" LOAD_FROM=sender@bench.test
	smtp-sink -u nobody "127.0.0.1:$port" 256 >"$BENCH_TMP/sink.log" 2>&1 &
	SINK_PID=$!
	if ! wait_port "$port" 10; then
		kill -TERM "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null; SINK_PID=""
		echo "sink failed=start"
		return 1
	fi
	t0=$(now)
	run_load "$port" "$N" "$SESSIONS" "$SIZE" "$LOAD_TIMEOUT" "$BENCH_TMP/sink-load.log"
	wall=$(elapsed "$t0")
	hz=$(getconf CLK_TCK)
	cpu=$(sed 's/^.*) //' "/proc/$SINK_PID/stat" 2>/dev/null |
		awk -v hz="$hz" '{ printf "%.2f", ($12 + $13) / hz }')
	kill -TERM "$SINK_PID" 2>/dev/null
	wait "$SINK_PID" 2>/dev/null
	SINK_PID=""
	echo "sink messages=$N msgs_per_s=$(div "$N" "$wall") cpu_s=${cpu:-n/a} $(load_keys)"
}

TALON_ON=$TALON
TALON_OFF=""
if [ "$CHECKS" != on ] && [ "$OFF_MODE" = base ] && ! build_base; then
	say "bench: NOTE: no base build; \"off\" is the same binary with a sender domain without records (OFF_MODE=nxdomain)"
	OFF_MODE=nxdomain
fi
setup_auth
MODES=()
case $CHECKS in on) MODES=(on) ;; off) MODES=(off) ;; both) MODES=(on off) ;; esac
MAIN=${MODES[0]}   # the figures the raw and Postfix ratios use

say "bench: scratch filesystem: $fs ($BENCH_TMP); $(nproc) cores; N=$N SESSIONS=$SESSIONS SIZE=$SIZE RUNS=$RUNS"
say "bench: talon binary: $TALON_ON; CHECKS=$CHECKS${TALON_OFF:+ (off: $TALON_OFF at $BASE_COMMIT)}" \
	"OFF_MODE=$OFF_MODE DKIM_SIGS=$DKIM_SIGS"

declare -a S_MPS S_FLOOR S_BOUND Q_SINK Q_BOUND R_THRCPU
declare -a R_SEQ R_THR P_ACC P_DEL P_CPU P_L50 P_L99 Q_SEQ Q_THR Q_PF Q_L99 Q_ONOFF Q_ONOFF99 Q_ONOFFCPU
declare -A T=()    # "key mode" -> the values of all runs
tadd() { T["$1 $2"]+="${3:-n/a} "; }
tmed() { median ${T["$1 $2"]:-}; }
for ((run = 1; run <= RUNS; run++)); do
	echo "== run $run/$RUNS =="
	# in the background + wait, as everything long here: a signal to us
	# then runs on_exit at once, which ends it
	"$RAW" -n "$RAW_FILES" -t 20 "$RAWDIR" >"$BENCH_TMP/raw-line.txt" &
	RAW_PID=$!
	wait "$RAW_PID" || die "raw_fsync failed"
	RAW_PID=""
	raw_out=$(cat "$BENCH_TMP/raw-line.txt")
	echo "$raw_out"
	seq_fps=$(kv files_per_sec "$(grep mode=sequential <<<"$raw_out")")
	thr_fps=$(kv files_per_sec "$(grep mode=threaded <<<"$raw_out")")
	R_SEQ+=("$seq_fps"); R_THR+=("$thr_fps")
	thr_cpu_us=$(kv cpu_us_per_file "$(grep mode=threaded <<<"$raw_out")")
	R_THRCPU+=("$thr_cpu_us")

	# with both modes, which goes first alternates from run to run
	order=("${MODES[@]}")
	[ ${#MODES[@]} = 2 ] && ((run % 2 == 0)) && order=(off on)
	declare -A last=()
	for m in "${order[@]}"; do
		# not in $(...): talon must run in this shell, where the EXIT trap can stop it
		talon_run "$m" >"$BENCH_TMP/talon-line.txt" || true
		t_line=$(tail -n1 "$BENCH_TMP/talon-line.txt")
		echo "$t_line"
		for k in accept_msgs_per_s delivered_msgs_per_s cpu_s maxrss_kb pss_kb_end lat_p50_ms lat_p99_ms; do
			tadd "$k" "$m" "$(kv "$k" "$t_line")"
			last["$k $m"]=$(kv "$k" "$t_line")
		done
	done
	t_del=${last["delivered_msgs_per_s $MAIN"]}
	t_l99=${last["lat_p99_ms $MAIN"]}
	Q_SEQ+=("$(div "$t_del" "$seq_fps" %.3f)"); Q_THR+=("$(div "$t_del" "$thr_fps" %.3f)")
	if [ ${#MODES[@]} = 2 ]; then
		Q_ONOFF+=("$(div "${last["delivered_msgs_per_s on"]}" "${last["delivered_msgs_per_s off"]}" %.3f)")
		Q_ONOFF99+=("$(div "${last["lat_p99_ms on"]}" "${last["lat_p99_ms off"]}" %.3f)")
		Q_ONOFFCPU+=("$(div "${last["cpu_s on"]}" "${last["cpu_s off"]}" %.3f)")
		echo "ratios run=$run delivered_on/off=${Q_ONOFF[-1]} p99_on/off=${Q_ONOFF99[-1]} cpu_on/off=${Q_ONOFFCPU[-1]}"
	fi
	unset last

	if [ "$SINK" = 1 ]; then
		# not in $(...): the sink must run in this shell (on_exit stops it)
		sink_run >"$BENCH_TMP/sink-line.txt" || true
		s_line=$(tail -n1 "$BENCH_TMP/sink-line.txt")
		echo "$s_line"
		s_mps=$(kv msgs_per_s "$s_line")
		# the CPU floor of one durable message (microseconds), and the
		# messages per second this machine's cores allow at that floor
		floor=$(awk -v l="$(kv load_cpu_s "$s_line")" -v c="$(kv cpu_s "$s_line")" \
			-v r="$thr_cpu_us" -v n="$N" 'BEGIN {
				if (l == "" || l == "n/a" || c == "" || c == "n/a" || r == "") exit
				printf "%.1f", (l + c) * 1e6 / n + r }')
		bound=$(div "$(($(nproc) * 1000000))" "$floor" %.1f)
		S_MPS+=("$s_mps"); S_FLOOR+=("$floor"); S_BOUND+=("$bound")
		Q_SINK+=("$(div "$t_del" "$s_mps" %.3f)"); Q_BOUND+=("$(div "$bound" "$thr_fps" %.3f)")
		echo "budget run=$run floor_us_per_msg=${floor:-n/a} cpu_bound_msgs_per_s=${bound:-n/a}" \
			"cpu_bound/raw_20_threads=${Q_BOUND[-1]} talon/sink=${Q_SINK[-1]}"
	fi

	if [ "$PEER" = 1 ]; then
		# in the background + wait: a signal to us reaches it through on_exit
		N=$N SESSIONS=$SESSIONS SIZE=$SIZE LOAD_TIMEOUT=$LOAD_TIMEOUT DELIVER_TIMEOUT=$DELIVER_TIMEOUT \
			"$BENCH_DIR/postfix-peer.sh" >"$BENCH_TMP/postfix-line.txt" &
		PEER_PID=$!
		wait "$PEER_PID"
		PEER_PID=""
		p_line=$(tail -n1 "$BENCH_TMP/postfix-line.txt")
		echo "$p_line"
		p_del=$(kv delivered_msgs_per_s "$p_line")
		P_ACC+=("$(kv accept_msgs_per_s "$p_line")"); P_DEL+=("$p_del"); P_CPU+=("$(kv cpu_s "$p_line")")
		p_l99=$(kv lat_p99_ms "$p_line")
		P_L50+=("$(kv lat_p50_ms "$p_line")"); P_L99+=("$p_l99")
		Q_PF+=("$(div "$t_del" "$p_del" %.3f)")
		Q_L99+=("$(div "$t_l99" "$p_l99" %.3f)")
	fi
done

echo
echo "== medians over $RUNS run(s): N=$N messages of $SIZE bytes, $SESSIONS sessions, $fs =="
printf '%-44s %s\n' \
	"raw ceiling, sequential (files/s)" "$(median "${R_SEQ[@]}")" \
	"raw ceiling, 20 threads (files/s)" "$(median "${R_THR[@]}")"
for m in "${MODES[@]}"; do
	l="talon, checks $m"
	[ "$m" = off ] && l+=" ($OFF_MODE)"
	printf '%-44s %s\n' \
		"$l: accepted (msgs/s, smtp_load wall)" "$(tmed accept_msgs_per_s "$m")" \
		"$l: delivered (msgs/s, N files in new/)" "$(tmed delivered_msgs_per_s "$m")" \
		"$l: CPU (s, user+sys, time -v)" "$(tmed cpu_s "$m")" \
		"$l: peak RSS (KB, largest one process)" "$(tmed maxrss_kb "$m")" \
		"$l: Pss at end (KB, all processes)" "$(tmed pss_kb_end "$m")" \
		"$l: 250 latency p50 (ms)" "$(tmed lat_p50_ms "$m")" \
		"$l: 250 latency p99 (ms)" "$(tmed lat_p99_ms "$m")"
done
if [ ${#MODES[@]} = 2 ]; then
	printf '%-44s %s\n' \
		"talon delivered, checks on / off" "$(median "${Q_ONOFF[@]}")" \
		"talon p99, checks on / off" "$(median "${Q_ONOFF99[@]}")" \
		"talon CPU, checks on / off" "$(median "${Q_ONOFFCPU[@]}")"
fi
printf '%-44s %s\n' \
	"talon ($MAIN) delivered / raw 20 threads" "$(median "${Q_THR[@]}")" \
	"talon ($MAIN) delivered / raw sequential" "$(median "${Q_SEQ[@]}")"
if [ "$PEER" = 1 ]; then
	printf '%-44s %s\n' \
		"postfix accepted (msgs/s)" "$(median "${P_ACC[@]}")" \
		"postfix delivered (msgs/s)" "$(median "${P_DEL[@]}")" \
		"postfix CPU (s, whole master tree)" "$(median "${P_CPU[@]}")" \
		"postfix 250 latency p50 (ms)" "$(median "${P_L50[@]}")" \
		"postfix 250 latency p99 (ms)" "$(median "${P_L99[@]}")" \
		"talon ($MAIN) delivered / postfix delivered" "$(median "${Q_PF[@]}")" \
		"talon ($MAIN) p99 / postfix p99" "$(median "${Q_L99[@]}")"
fi
if [ "$SINK" = 1 ]; then
	printf '%-44s %s\n' \
		"raw 20 threads: CPU per file (us)" "$(median "${R_THRCPU[@]}")" \
		"null server (smtp-sink) (msgs/s)" "$(median "${S_MPS[@]}")" \
		"CPU floor per durable message (us)" "$(median "${S_FLOOR[@]}")" \
		"CPU-bound msgs/s on $(nproc) cores" "$(median "${S_BOUND[@]}")" \
		"CPU bound / raw 20 threads" "$(median "${Q_BOUND[@]}")" \
		"talon ($MAIN) delivered / null server" "$(median "${Q_SINK[@]}")"
fi
echo "(targets, bench/README.md: talon >= 0.5 x raw 20-thread ceiling; talon > postfix)"
