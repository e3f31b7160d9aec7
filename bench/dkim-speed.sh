#!/bin/bash
# bench/dkim-speed.sh - DKIM signatures and verifications per second with
# talon's own code, for a message of SIZE bytes (default 10 KB), RSA-2048
# and Ed25519, set against the bare primitive measured in the same run by
# `openssl speed` on the same CPU.
#
# Each run (RUNS, default 3), in an order that alternates from run to run:
#   ours:    bench/tmp/dkim_speed (bench/dkim_speed.c, linked against the
#            release objects of `make build/talon`): dkim_sign() for
#            DURATION seconds, then the smtp worker's verification path
#            (mhdrs_* + dkim_verify_*, the key record handed over as a
#            struct lookup: no DNS) for DURATION seconds, per algorithm;
#            plus key_decode_us, what turning the key record into an
#            OpenSSL key costs per verification (part of the verification);
#   openssl: `openssl speed -seconds DURATION rsa2048 ed25519`: sign/s and
#            verify/s of the primitive alone (RSA over a 36-byte digest,
#            Ed25519 over a short message: no message hashing, no key
#            decoding).
# Both run pinned to CPU (default 1) with taskset when it exists, one
# thread each, bounded by `timeout`.  Printed per run and as medians: our
# rates, the primitive's, and our rate / the primitive's, taken within the
# run (target: >= 0.67, our cost within 1.5x of the primitive's).
#
# Usage:  bench/dkim-speed.sh      (builds build/talon's objects with make
#         when needed; needs no root, no network)
# Env:    RUNS=3 DURATION=3 SIZE=10240 CPU=1
# Never run by CI.  Prints figures, asserts nothing.
set -u
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-3}
DURATION=${DURATION:-3}
SIZE=${SIZE:-10240}
CPU=${CPU:-1}
[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -ge 1 && "$RUNS" -le 15 ]] || die "RUNS must be 1..15"
[[ "$DURATION" =~ ^[0-9]+$ && "$DURATION" -ge 1 && "$DURATION" -le 60 ]] || die "DURATION must be 1..60"
[[ "$SIZE" =~ ^[0-9]+$ && "$SIZE" -le 16777216 ]] || die "SIZE must be 0..16777216"
[[ "$CPU" =~ ^[0-9]+$ && "$CPU" -lt "$(nproc)" ]] || CPU=0
command -v openssl >/dev/null 2>&1 || die "openssl (the command) is missing: apt-get install openssl"

lock dkim-speed
BIN="$BENCH_TMP/dkim_speed"
PIN=()
command -v taskset >/dev/null 2>&1 && PIN=(taskset -c "$CPU")
CHILD=""
on_exit() { [ -n "$CHILD" ] && { kill -TERM "$CHILD" 2>/dev/null; wait "$CHILD" 2>/dev/null; }; }
trap on_exit EXIT
trap 'exit 130' INT TERM

build_bench() { link_with_talon "$BENCH_DIR/dkim_speed.c" "$BIN"; }

# ours OUT: one dkim_speed run, both algorithms, into OUT
ours() {
	timeout -k 5 $((DURATION * 8 + 60)) "${PIN[@]}" "$BIN" -l "$SIZE" -d "$DURATION" >"$1" 2>&1 &
	CHILD=$!
	wait "$CHILD" || say "bench: dkim_speed failed; its output: $(tr '\n' ' ' <"$1")"
	CHILD=""
}

# primitive OUT: `openssl speed`, its two table lines reduced to
# "primitive alg=... sign_per_s=... verify_per_s=..." lines in OUT
primitive() {
	timeout -k 5 $((DURATION * 4 + 60)) "${PIN[@]}" openssl speed -seconds "$DURATION" \
		rsa2048 ed25519 >"$1.raw" 2>&1 &
	CHILD=$!
	wait "$CHILD" ||
		say "bench: openssl speed failed; the end of its output: $(tail -n 3 "$1.raw")"
	CHILD=""
	# "rsa 2048 bits 0.000371s 0.000019s   2692.6  52563.9"
	# " 253 bits EdDSA (Ed25519)   0.0000s   0.0001s  20830.2   9994.4"
	awk '/^rsa 2048 bits / { print "primitive alg=rsa2048 sign_per_s=" $(NF-1) " verify_per_s=" $NF }
	     /EdDSA \(Ed25519\)/ { print "primitive alg=ed25519 sign_per_s=" $(NF-1) " verify_per_s=" $NF }' \
		"$1.raw" >"$1"
	# DKIM's other primitive: SHA-256 over the message (body hash, header
	# hash), "sha256  1473382.40k" = 1000s of bytes/s for SIZE-byte blocks
	timeout -k 5 $((DURATION * 2 + 60)) "${PIN[@]}" openssl speed -seconds "$DURATION" \
		-bytes "$((SIZE > 16 ? SIZE : 16))" -evp sha256 >"$1.sha" 2>&1
	awk '/^sha256 / { v = $NF; sub(/k$/, "", v); print "sha256 bytes_per_s=" v * 1000 }' \
		"$1.sha" >>"$1"
}

build_bench
pinned=$CPU
[ ${#PIN[@]} -gt 0 ] || pinned="none (no taskset)"
say "bench: $(nproc) cores, pinned to CPU $pinned; RUNS=$RUNS DURATION=${DURATION}s SIZE=$SIZE"
say "bench: $(openssl version); load average now: $(cut -d' ' -f1-3 /proc/loadavg)"

ALGS=(rsa2048 ed25519)
declare -A V=()    # "key alg" -> the values of all runs
add() { V["$1 $2"]+="${3:-n/a} "; }
med() { median ${V["$1 $2"]:-}; }
for ((run = 1; run <= RUNS; run++)); do
	echo "== run $run/$RUNS =="
	if ((run % 2)); then
		ours "$BENCH_TMP/dkim-ours.txt"; primitive "$BENCH_TMP/dkim-prim.txt"
	else
		primitive "$BENCH_TMP/dkim-prim.txt"; ours "$BENCH_TMP/dkim-ours.txt"
	fi
	for a in "${ALGS[@]}"; do
		o=$(grep "^dkim alg=$a " "$BENCH_TMP/dkim-ours.txt")
		p=$(grep "^primitive alg=$a " "$BENCH_TMP/dkim-prim.txt")
		echo "${o:-dkim alg=$a failed}"
		echo "${p:-primitive alg=$a failed}"
		os=$(kv sign_per_s "$o"); ov=$(kv verify_per_s "$o")
		ps=$(kv sign_per_s "$p"); pv=$(kv verify_per_s "$p")
		rs=$(div "$os" "$ps" %.3f); rv=$(div "$ov" "$pv" %.3f)
		# the primitives a DKIM operation needs: the signature and
		# SHA-256 over the message
		hb=$(kv bytes_per_s "$(grep '^sha256 ' "$BENCH_TMP/dkim-prim.txt")")
		hs=$(awk -v p="$ps" -v h="$hb" -v n="$SIZE" 'BEGIN { if (p > 0 && h > 0)
			printf "%.1f", 1 / (1 / p + n / h); else print "n/a" }')
		hv=$(awk -v p="$pv" -v h="$hb" -v n="$SIZE" 'BEGIN { if (p > 0 && h > 0)
			printf "%.1f", 1 / (1 / p + n / h); else print "n/a" }')
		rhs=$(div "$os" "$hs" %.3f); rhv=$(div "$ov" "$hv" %.3f)
		echo "ratio alg=$a run=$run sign=$rs verify=$rv sign_vs_with_hash=$rhs verify_vs_with_hash=$rhv"
		add hs "$a" "$hs"; add hv "$a" "$hv"; add rhs "$a" "$rhs"; add rhv "$a" "$rhv"
		add os "$a" "$os"; add ov "$a" "$ov"; add ps "$a" "$ps"; add pv "$a" "$pv"
		add rs "$a" "$rs"; add rv "$a" "$rv"; add kd "$a" "$(kv key_decode_us "$o")"
	done
done

echo
echo "== medians over $RUNS run(s): message of $SIZE bytes, ${DURATION}s per figure, one thread =="
printf '%-46s %12s %12s\n' "" "${ALGS[@]}"
row() { printf '%-46s %12s %12s\n' "$1" "$(med "$2" rsa2048)" "$(med "$2" ed25519)"; }
row "talon dkim_sign (signatures/s)" os
row "openssl speed sign/s (primitive)" ps
row "talon sign / primitive" rs
row "talon verification (verifications/s)" ov
row "openssl speed verify/s (primitive)" pv
row "talon verify / primitive" rv
row "  of which key record -> OpenSSL key (us)" kd
row "primitive + SHA-256 of the message, sign/s" hs
row "talon sign / (primitive + hash)" rhs
row "primitive + SHA-256 of the message, verify/s" hv
row "talon verify / (primitive + hash)" rhv
echo "(target: ratio >= 0.67, our cost within 1.5 x the primitive's.  Ours includes" \
	"canonicalising and hashing $SIZE bytes; a verification decodes the key record each time.)"
