#!/bin/bash
# bench/access.sh - access map load time and lookups per second with
# talon's own code (bench/access-bench.c linked against the release
# objects of `make build/talon`, as bench/dkim-speed.sh links), on the
# 25,000-line file of tests/data/access/gen-access.py.
#
# Each run (RUNS, default 3) loads the file LOADS times (median and best
# load in ms, set against the 100 ms ceiling the issue gives and against
# a bare read of the file in the same run), then times lookups for
# DURATION seconds each: Connect: client addresses, From: and To:
# addresses (half of the keys from the file, half not in it).
#
# Usage:  bench/access.sh        (needs no root, no network)
# Env:    RUNS=3 LOADS=11 DURATION=2 LINES=25000 CPU=1
# Never run by CI.  Prints figures, asserts nothing.
set -u
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-3}
LOADS=${LOADS:-11}
DURATION=${DURATION:-2}
LINES=${LINES:-25000}
CPU=${CPU:-1}
[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -ge 1 && "$RUNS" -le 15 ]] || die "RUNS must be 1..15"
[[ "$LOADS" =~ ^[0-9]+$ && "$LOADS" -ge 1 && "$LOADS" -le 1000 ]] || die "LOADS must be 1..1000"
[[ "$DURATION" =~ ^[0-9]+$ && "$DURATION" -ge 1 && "$DURATION" -le 60 ]] ||
	die "DURATION must be 1..60"
[[ "$LINES" =~ ^[0-9]+$ && "$LINES" -ge 1 && "$LINES" -le 2000000 ]] ||
	die "LINES must be 1..2000000"
[[ "$CPU" =~ ^[0-9]+$ && "$CPU" -lt "$(nproc)" ]] || CPU=0

lock access
BIN="$BENCH_TMP/access-bench"
MAP="$BENCH_TMP/access-$LINES.map"
PIN=()
command -v taskset >/dev/null 2>&1 && PIN=(taskset -c "$CPU")

build_bench() { link_with_talon "$BENCH_DIR/access-bench.c" "$BIN"; }

build_bench
/usr/bin/python3 "$REPO_DIR/tests/data/access/gen-access.py" --lines "$LINES" >"$MAP" ||
	die "gen-access.py failed"
say "bench: $(nproc) cores, pinned to CPU ${CPU}; $(wc -l <"$MAP") lines, $(wc -c <"$MAP") bytes"
say "bench: load average now: $(cut -d' ' -f1-3 /proc/loadavg)"

declare -A V=()
for ((run = 1; run <= RUNS; run++)); do
	out=$(timeout -k 5 $((DURATION * 3 + 120)) "${PIN[@]}" "$BIN" "$MAP" -n "$LOADS" \
		-d "$DURATION") || { say "bench: run $run failed"; continue; }
	echo "run $run: $out"
	for k in entries load_ms_median load_ms_min read_ms connect_per_s from_per_s to_per_s; do
		V[$k]+="$(kv "$k" "$out") "
	done
done
med() { median ${V[$1]:-}; }
echo
echo "== medians over $RUNS run(s), $LINES lines =="
echo "entries:                      $(med entries)"
echo "load (read+parse+index) ms:   $(med load_ms_median)  (best $(med load_ms_min))"
echo "bare read of the file ms:     $(med read_ms)"
echo "load / 100 ms ceiling:        $(div "$(med load_ms_median)" 100 %.3f)"
echo "Connect: lookups/s:           $(med connect_per_s)"
echo "From: lookups/s:              $(med from_per_s)"
echo "To: lookups/s:                $(med to_per_s)"
