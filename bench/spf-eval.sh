#!/bin/bash
# bench/spf-eval.sh - SPF evaluations per second through `talon serve`: the
# real path (smtp worker -> policy process -> spf_eval over libunbound,
# forwarding to a DNS server of ours on loopback), measured as MAIL FROM
# replies per second, with a cold and a warm resolver cache.
#
# DNS: our own server (bench/authdns.sh: a second talon, no smtp listener)
# serves "." (NXDOMAIN for every other name, the client's PTR included) and
# spf.test with DOMAINS sender domains d0 .. d{DOMAINS-1}, each with names
# of its own, so that a first evaluation of each finds nothing cached:
#   dI        TXT "v=spf1 include:a.dI.spf.test include:b.dI.spf.test mx -all"
#   dI        MX  10 mx.dI.spf.test.          mx.dI  A 127.0.0.1
#   a.dI      TXT "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 a -all"  + A 203.0.113.1
#   b.dI      TXT "v=spf1 ip4:203.0.113.0/24 ip6:2001:db8::/32 a -all"  + A 203.0.113.2
# The client is 127.0.0.1: both includes are walked (ip4 ranges and their
# `a` do not match: no match), then `mx` matches: pass, after 7 queries
# (TXT, TXT a, A a, TXT b, A b, MX, A mx) in 6 rounds, 5 DNS mechanisms.
# simple.spf.test, "v=spf1 ip4:127.0.0.1 -all" (one query), is the
# reference: the same session traffic with the cheapest evaluation there is.
#
# Each run (RUNS, default 3): a fresh mail talon (`resolver forward` to our
# server, `limit junk-commands` raised for the RSETs), then the load
# (bench/smtp_load.c -M: SESSIONS connections, each EHLO then up to PER_CONN
# times MAIL FROM + RSET; the latency is that of the MAIL reply):
#   cold:   DOMAINS MAIL FROMs, sender@dI.spf.test for I = 0 .. DOMAINS-1,
#           each domain once on a daemon just started: every evaluation
#           asks our DNS server its 7 questions (libunbound's cache is
#           empty for those names);
#   warm:   the same DOMAINS senders again: every answer is in the cache;
#   simple: DOMAINS MAIL FROMs of sender@simple.spf.test (warm);
# then talon is stopped.  Printed per run and as medians: evaluations/s
# (= MAIL replies answered 250 per second of the load's wall time), MAIL
# latency p50/p99, and the ratios warm/cold and include-record/simple
# (both warm), taken within a run.  Every MAIL must get 250 (SPF pass):
# the script says so when some did not.
#
# CLI=N (default 200, 0: skip): N evaluations with `talon -c CONF spf
# 127.0.0.1 sender@dI.spf.test`, one process after the other.  Each process
# loads the config and makes a new resolver, so each is a cold evaluation
# plus a process start: this measures mostly the start, not SPF.
#
# Usage:  bench/spf-eval.sh          (as root: talon drops privileges)
# Env:    RUNS=3 DOMAINS=5000 SESSIONS=20 PER_CONN=50 CLI=200 LOAD_TIMEOUT=300
#         TALON=build/talon
# Never run by CI.  Prints figures, asserts nothing.  Loopback only.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authdns.sh"

RUNS=${RUNS:-3}
DOMAINS=${DOMAINS:-5000}
SESSIONS=${SESSIONS:-20}
PER_CONN=${PER_CONN:-50}
CLI=${CLI:-200}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-300}
[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -ge 1 && "$RUNS" -le 15 ]] || die "RUNS must be 1..15"
[[ "$DOMAINS" =~ ^[0-9]+$ && "$DOMAINS" -ge 1 && "$DOMAINS" -le 100000 ]] || die "DOMAINS must be 1..100000"
[[ "$SESSIONS" =~ ^[0-9]+$ && "$SESSIONS" -ge 1 && "$SESSIONS" -le 1000 ]] || die "SESSIONS must be 1..1000"
[[ "$PER_CONN" =~ ^[0-9]+$ && "$PER_CONN" -ge 1 && "$PER_CONN" -le 900 ]] || die "PER_CONN must be 1..900"
[[ "$CLI" =~ ^[0-9]+$ && "$CLI" -le 100000 ]] || die "CLI must be 0..100000"
[[ "$LOAD_TIMEOUT" =~ ^[0-9]+$ && "$LOAD_TIMEOUT" -ge 1 ]] || die "LOAD_TIMEOUT must be a number of seconds"

need_root
lock spf-eval
on_exit() {
	stop_load
	talon_stop
	authdns_stop
}
trap on_exit EXIT
trap 'exit 130' INT TERM

ensure_talon
ensure_auth_users
build_load

TDIR="$BENCH_TMP/spf-talon"
DNSDIR="$BENCH_TMP/spf-dns"

# spf_zone FILE: the zone spf.test (see the head of this file)
spf_zone() {
	awk -v n="$DOMAINS" 'BEGIN {
		print "$ORIGIN spf.test.\n$TTL 3600"
		print "@ IN SOA ns.spf.test. hostmaster.spf.test. 1 3600 600 86400 3600"
		print "  IN NS ns.spf.test.\nns IN A 127.0.0.1\nprobe IN A 127.0.0.1"
		print "simple IN TXT \"v=spf1 ip4:127.0.0.1 -all\""
		for (i = 0; i < n; i++) {
			d = "d" i
			printf "%s IN TXT \"v=spf1 include:a.%s.spf.test include:b.%s.spf.test mx -all\"\n", d, d, d
			printf "%s IN MX 10 mx.%s.spf.test.\nmx.%s IN A 127.0.0.1\n", d, d, d
			printf "a.%s IN TXT \"v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 a -all\"\n", d
			printf "a.%s IN A 203.0.113.1\n", d
			printf "b.%s IN TXT \"v=spf1 ip4:203.0.113.0/24 ip6:2001:db8::/32 a -all\"\n", d
			printf "b.%s IN A 203.0.113.2\n", d
		}
	}' >"$1"
}

# mail_load PORT FROM TAG: DOMAINS MAIL FROMs (smtp_load -M); prints the
# load's line, with TAG, and says so when some MAIL did not get its 250
mail_load() {
	local port=$1 from=$2 tag=$3 log="$TDIR/load-$3.log" rc=0 line
	timeout -k 5 $((LOAD_TIMEOUT + 30)) "$LOAD_BIN" -M "$PER_CONN" -s "$SESSIONS" \
		-m "$DOMAINS" -V "$DOMAINS" -T "$LOAD_TIMEOUT" -f "$from" "127.0.0.1:$port" >"$log" 2>&1 &
	LOAD_PID=$!
	wait "$LOAD_PID" || rc=$?
	LOAD_PID=""
	line=$(grep '^load ' "$log" | tail -n1)
	if [ "$rc" != 0 ] || [ "$(kv ok "$line")" != "$DOMAINS" ]; then
		say "bench: $tag: not every MAIL got its 250 (exit $rc): ${line:-no result line};" \
			"first failures:"
		grep -v '^load ' "$log" | head -n 5 >&2
		grep -m3 'event=reject\|spf=temperror\|spf=fail' "$TDIR/talon.log" >&2
	fi
	echo "spf pass=$tag evals=$DOMAINS evals_per_s=$(kv msgs_per_s "$line") wall_s=$(kv wall_s "$line")" \
		"ok=$(kv ok "$line") failed=$(kv failed "$line") mail_p50_ms=$(kv lat_p50_ms "$line")" \
		"mail_p99_ms=$(kv lat_p99_ms "$line") mail_max_ms=$(kv lat_max_ms "$line")"
}

# cli_evals N: N `talon spf` processes one after the other (each bounded);
# prints evals/s and how many said pass
cli_evals() {
	local n=$1 i pass=0 t0 s
	t0=$(now)
	for ((i = 0; i < n; i++)); do
		timeout -k 2 20 "$TALON" -c "$TDIR/talon.conf" spf 127.0.0.1 \
			"sender@d$((i % DOMAINS)).spf.test" >/dev/null 2>&1 && pass=$((pass + 1))
	done
	s=$(elapsed "$t0")
	echo "spf pass=cli evals=$n evals_per_s=$(div "$n" "$s") wall_s=$s ok=$pass"
}

authdns_conf "$DNSDIR"
spf_zone "$DNSDIR/spf.zone"
authdns_zone "$DNSDIR" spf.test spf.zone
authdns_start "$DNSDIR" probe.spf.test || die "our DNS server did not start"

say "bench: $(nproc) cores; RUNS=$RUNS DOMAINS=$DOMAINS SESSIONS=$SESSIONS PER_CONN=$PER_CONN CLI=$CLI"
say "bench: talon binary: $TALON; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"

declare -A V=()
add() { V["$1"]+="${2:-n/a} "; }
for ((run = 1; run <= RUNS; run++)); do
	echo "== run $run/$RUNS =="
	port=$(free_port)
	talon_write_conf "$TDIR" "$port"
	cat >>"$TDIR/talon.conf" <<CONF
resolver forward 127.0.0.1@$AUTHDNS_PORT
# PER_CONN RSETs per session
limit junk-commands 1000
limit errors 1000
CONF
	talon_start "$TDIR" "$port" || die "talon did not start"
	declare -A line=()
	for p in cold warm; do
		mail_load "$port" 'sender@d{n}.spf.test' "$p" >"$BENCH_TMP/spf-line.txt"
		line[$p]=$(tail -n1 "$BENCH_TMP/spf-line.txt")
	done
	mail_load "$port" sender@simple.spf.test simple >"$BENCH_TMP/spf-line.txt"
	line[simple]=$(tail -n1 "$BENCH_TMP/spf-line.txt")
	cpu=$(tree_cpu "$TALON_PID")
	talon_stop
	for p in cold warm simple; do
		echo "${line[$p]}"
		add "eps $p" "$(kv evals_per_s "${line[$p]}")"
		add "p50 $p" "$(kv mail_p50_ms "${line[$p]}")"
		add "p99 $p" "$(kv mail_p99_ms "${line[$p]}")"
	done
	rw=$(div "$(kv evals_per_s "${line[warm]}")" "$(kv evals_per_s "${line[cold]}")" %.3f)
	rs=$(div "$(kv evals_per_s "${line[warm]}")" "$(kv evals_per_s "${line[simple]}")" %.3f)
	echo "ratios run=$run warm/cold=$rw includes/simple=$rs talon_cpu_s=$cpu"
	add warm_cold "$rw"; add inc_simple "$rs"
	unset line
done

cli_line=""
if [ "$CLI" -gt 0 ]; then
	# the config of the last run; no daemon needed, the CLI resolves itself
	cli_line=$(cli_evals "$CLI")
	echo "$cli_line"
fi

med() { median ${V["$1"]:-}; }
echo
echo "== medians over $RUNS run(s): $DOMAINS evaluations per pass, $SESSIONS sessions," \
	"$PER_CONN MAIL+RSET per connection =="
row3() { printf '%-52s %12s %12s %12s\n' "$@"; }
row3 "" cold warm simple
row3 "SPF evaluations/s (MAIL FROM answered 250 per s)" \
	"$(med "eps cold")" "$(med "eps warm")" "$(med "eps simple")"
row3 "MAIL reply latency p50 (ms)" "$(med "p50 cold")" "$(med "p50 warm")" "$(med "p50 simple")"
row3 "MAIL reply latency p99 (ms)" "$(med "p99 cold")" "$(med "p99 warm")" "$(med "p99 simple")"
printf '%-52s %12s\n' "warm / cold (evaluations/s)" "$(med warm_cold)" \
	"include record / simple record (warm)" "$(med inc_simple)"
[ -n "$cli_line" ] && printf '%-52s %12s\n' "talon spf CLI, one process each (evaluations/s)" \
	"$(kv evals_per_s "$cli_line")"
echo "(cold: 7 questions to our loopback DNS server per evaluation; warm: all from" \
	"the resolver's cache.  The CLI figure is mostly process start and resolver setup.)"
