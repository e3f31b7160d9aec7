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
#   3. postfix: the same load against a private Postfix (bench/postfix-peer.sh).
# Each prints a key=value line: throughput (accept_msgs_per_s: N / the load's
# wall time; delivered_msgs_per_s: N / time until N files are in the
# Maildir), CPU, memory, and lat_p50_ms/lat_p99_ms/lat_max_ms of the 250.
# Then medians over the runs (for latencies: the median of each run's p50,
# p99), and ratios taken within each run, then their median.
#
# Usage:  bench/smtp-throughput.sh          (as root; installs postfix for
#         the peer if missing, builds build/talon with make if missing)
# Env:    N=5000 RUNS=3 SESSIONS=20 SIZE=2048 PEER=1 (0: no Postfix)
#         RAW_FILES=$N LOAD_TIMEOUT=600 DELIVER_TIMEOUT=300 TALON=build/talon
# Never run by CI.  Prints figures, asserts nothing.
set -u
. "$(dirname "$0")/lib.sh"

N=${N:-5000}
RUNS=${RUNS:-3}
SESSIONS=${SESSIONS:-20}
SIZE=${SIZE:-2048}
PEER=${PEER:-1}
RAW_FILES=${RAW_FILES:-$N}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-600}
DELIVER_TIMEOUT=${DELIVER_TIMEOUT:-300}
[[ "$N" =~ ^[0-9]+$ && "$N" -ge 1 && "$N" -le 200000 ]] || die "N must be 1..200000"
[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -ge 1 && "$RUNS" -le 15 ]] || die "RUNS must be 1..15"
[[ "$SESSIONS" =~ ^[0-9]+$ && "$SESSIONS" -ge 1 && "$SESSIONS" -le 1000 ]] || die "SESSIONS must be 1..1000"
[[ "$RAW_FILES" =~ ^[0-9]+$ && "$RAW_FILES" -ge 1 && "$RAW_FILES" -le 200000 ]] || die "RAW_FILES must be 1..200000"

need_root
lock smtp-throughput
PEER_PID=""
RAW_PID=""
RAWDIR="$BENCH_TMP/raw.$$"
on_exit() {
	[ -n "$RAW_PID" ] && { kill -TERM "$RAW_PID" 2>/dev/null; wait "$RAW_PID" 2>/dev/null; }
	rm -rf "$RAWDIR"
	[ -n "$PEER_PID" ] && { kill -TERM "$PEER_PID" 2>/dev/null; wait "$PEER_PID" 2>/dev/null; }
	stop_load
	talon_stop
	cleanup_policy_rc
}
trap on_exit EXIT
trap 'exit 130' INT TERM

fs=$(check_scratch_fs)
[ "$PEER" = 1 ] && ensure_postfix
ensure_talon

build_load
RAW="$BENCH_TMP/raw_fsync"
if [ ! -x "$RAW" ] || [ "$BENCH_DIR/raw_fsync.c" -nt "$RAW" ]; then
	cc -O2 -Wall -Wextra -pthread -o "$RAW" "$BENCH_DIR/raw_fsync.c" || die "cannot build raw_fsync"
fi

say "bench: scratch filesystem: $fs ($BENCH_TMP); $(nproc) cores; N=$N SESSIONS=$SESSIONS SIZE=$SIZE RUNS=$RUNS"
say "bench: talon binary: $TALON"

TDIR="$BENCH_TMP/talon-run"

# one talon run; prints its key=value line
talon_run() {
	local port t0 accept_s got delivered_s cpu_proc pss user sys maxrss newdir
	port=$(free_port)
	talon_write_conf "$TDIR" "$port"
	newdir="$TDIR/store/bench/Maildir/new"
	talon_start "$TDIR" "$port" || { echo "talon failed=start"; return 1; }
	t0=$(now)
	run_load "$port" "$N" "$SESSIONS" "$SIZE" "$LOAD_TIMEOUT" "$TDIR/load.log"
	accept_s=$(elapsed "$t0")
	got=$(wait_files "$newdir" "$N" "$DELIVER_TIMEOUT")
	delivered_s=$(elapsed "$t0")
	[ "$got" -lt "$N" ] && say "bench: only $got of $N messages in $newdir after the wait (see $TDIR/talon.log)"
	cpu_proc=$(tree_cpu "$TALON_PID")
	pss=$(tree_pss_kb "$TALON_PID")
	talon_stop
	user=$(time_v "$TDIR/time.txt" "User time (seconds)")
	sys=$(time_v "$TDIR/time.txt" "System time (seconds)")
	maxrss=$(time_v "$TDIR/time.txt" "Maximum resident set size (kbytes)")
	echo "talon messages=$N accept_s=$accept_s accept_msgs_per_s=$(div "$N" "$accept_s")" \
		"delivered=$got delivered_s=$delivered_s delivered_msgs_per_s=$(div "$got" "$delivered_s")" \
		"cpu_s=$(awk -v u="${user:-0}" -v s="${sys:-0}" 'BEGIN { printf "%.2f", u + s }')" \
		"cpu_proc_s=$cpu_proc maxrss_kb=${maxrss:-n/a} pss_kb_end=$pss $(load_keys)"
}

declare -a R_SEQ R_THR T_ACC T_DEL T_CPU T_RSS T_PSS T_L50 T_L99 P_ACC P_DEL P_CPU P_L50 P_L99 Q_SEQ Q_THR Q_PF Q_L99
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

	# not in $(...): talon must run in this shell, where the EXIT trap can stop it
	talon_run >"$BENCH_TMP/talon-line.txt" || true
	t_line=$(tail -n1 "$BENCH_TMP/talon-line.txt")
	echo "$t_line"
	t_del=$(kv delivered_msgs_per_s "$t_line")
	T_ACC+=("$(kv accept_msgs_per_s "$t_line")"); T_DEL+=("$t_del")
	T_CPU+=("$(kv cpu_s "$t_line")"); T_RSS+=("$(kv maxrss_kb "$t_line")"); T_PSS+=("$(kv pss_kb_end "$t_line")")
	t_l99=$(kv lat_p99_ms "$t_line")
	T_L50+=("$(kv lat_p50_ms "$t_line")"); T_L99+=("$t_l99")
	Q_SEQ+=("$(div "$t_del" "$seq_fps" %.3f)"); Q_THR+=("$(div "$t_del" "$thr_fps" %.3f)")

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
	"raw ceiling, 20 threads (files/s)" "$(median "${R_THR[@]}")" \
	"talon accepted (msgs/s, smtp_load wall)" "$(median "${T_ACC[@]}")" \
	"talon delivered (msgs/s, N files in new/)" "$(median "${T_DEL[@]}")" \
	"talon CPU (s, user+sys, time -v)" "$(median "${T_CPU[@]}")" \
	"talon peak RSS (KB, largest one process)" "$(median "${T_RSS[@]}")" \
	"talon Pss at end (KB, all processes)" "$(median "${T_PSS[@]}")" \
	"talon 250 latency p50 (ms)" "$(median "${T_L50[@]}")" \
	"talon 250 latency p99 (ms)" "$(median "${T_L99[@]}")" \
	"talon delivered / raw 20 threads" "$(median "${Q_THR[@]}")" \
	"talon delivered / raw sequential" "$(median "${Q_SEQ[@]}")"
if [ "$PEER" = 1 ]; then
	printf '%-44s %s\n' \
		"postfix accepted (msgs/s)" "$(median "${P_ACC[@]}")" \
		"postfix delivered (msgs/s)" "$(median "${P_DEL[@]}")" \
		"postfix CPU (s, whole master tree)" "$(median "${P_CPU[@]}")" \
		"postfix 250 latency p50 (ms)" "$(median "${P_L50[@]}")" \
		"postfix 250 latency p99 (ms)" "$(median "${P_L99[@]}")" \
		"talon delivered / postfix delivered" "$(median "${Q_PF[@]}")" \
		"talon p99 / postfix p99" "$(median "${Q_L99[@]}")"
fi
echo "(targets, bench/README.md: talon >= 0.5 x raw 20-thread ceiling; talon > postfix)"
