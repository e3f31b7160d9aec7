#!/bin/bash
# bench/idle-conns.sh - memory per idle SMTP connection of `talon serve`.
#
# Starts talon on a free 127.0.0.1 port with a fresh config in
# bench/tmp/talon-idle/ (limit connections 2000, connections-per-ip 2000),
# runs bench/idle-conns.py (COUNT connections, banners read, Pss of talon's
# whole process tree before and after), then stops talon with SIGTERM.
#
# Usage: bench/idle-conns.sh        (as root; builds build/talon if missing)
# Env:   COUNT=1000 RUNS=1 EHLO=0 (1: park connections after EHLO) TALON=build/talon
# Never run by CI.  Prints figures, asserts nothing.
set -u
. "$(dirname "$0")/lib.sh"

COUNT=${COUNT:-1000}
RUNS=${RUNS:-1}
[[ "$COUNT" =~ ^[0-9]+$ && "$COUNT" -ge 1 && "$COUNT" -le 1900 ]] || die "COUNT must be 1..1900 (the config allows 2000)"
[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -ge 1 && "$RUNS" -le 15 ]] || die "RUNS must be 1..15"

need_root
lock idle-conns
trap talon_stop EXIT
trap 'exit 130' INT TERM

check_scratch_fs >/dev/null
ensure_talon
# the daemon gets COUNT sockets too: give it room (inherited by talon)
ulimit -n $((COUNT * 2 + 256)) 2>/dev/null || say "bench: cannot raise the open-files limit to $((COUNT * 2 + 256))"

DIR="$BENCH_TMP/talon-idle"
declare -a KB
for ((run = 1; run <= RUNS; run++)); do
	port=$(free_port)
	talon_write_conf "$DIR" "$port"
	talon_start "$DIR" "$port" || die "talon did not start (see $DIR/talon.log)"
	echo "== run $run/$RUNS: talon pid $TALON_PID on 127.0.0.1:$port =="
	out=$(timeout 300 /usr/bin/python3 "$BENCH_DIR/idle-conns.py" "127.0.0.1:$port" \
		--pid "$TALON_PID" --count "$COUNT" $([ "${EHLO:-0}" = 1 ] && echo --ehlo))
	echo "$out"
	KB+=("$(sed -n 's/.*kb_per_conn=\([0-9.-]*\).*/\1/p' <<<"$out" | head -n1)")
	talon_stop
done
[ "$RUNS" -gt 1 ] && echo "idle-conns median kb_per_conn=$(median "${KB[@]}") over $RUNS runs"
echo "(target, bench/README.md: < 64 KB per idle connection)"
