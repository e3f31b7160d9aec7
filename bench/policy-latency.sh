#!/bin/bash
# bench/policy-latency.sh - the latency the inbound defences (issue 13) add
# to one SMTP transaction: the whole policy pipeline with its DNS answers
# from a local DNS server, against the same transactions with the
# defences off.
#
# Each round starts talon twice (OFF, ON; the order alternates from round
# to round), each on free high ports on 127.0.0.1, as root with its
# normal privilege separation, from a fresh directory (empty caches, empty
# greylist and ban stores).  Both serve the same zones from their own dns
# process (`listen dns`, `limit dns-responses 0`) and resolve through it
# (`resolver forward 127.0.0.1@THAT_PORT`), so the mail-authentication
# checks that run in both (the client's PTR, SPF of sender.test) cost the
# same, and the two configs differ only in the defence lines:
#   OFF  today's defaults: no access map, no lists, greylisting off, no
#        greet pause, no pipelining check, no auto-ban.
#   ON   access map of 25,000 lines (gen-access.py, see below); 5 dnsbl
#        lists (bl1..bl5.test) and 1 rhsbl list on the sender domain
#        (rhs.test), none listing the bench's clients, so mail flows but
#        every list is asked; greylist on with `limit greylist-delay 1`;
#        pipelining-check on; auto-ban on; mynetworks empty.  No greet
#        pause: it adds only its own fixed wait to the banner.
# Each instance: wait until its DNS answers and (ON) the access map is
# loaded; greylisting warm-up: one transaction from the measured client
# (ON: deferred with 451 at RCPT), 1.1 s of sleep, a second one that
# must go through (OFF does the same, for symmetry); then
#   warm: N transactions from 127.0.0.2, one after the other, one per
#         connection (bench/policy_lat.c: connect, 220, EHLO, MAIL, RCPT,
#         DATA, SIZE bytes of body, ".", QUIT), timed whole and per phase;
#         the DNS answers are cached by then (the policy process keeps them
#         for their TTL, 300 s here);
#   cold: one transaction from each of K addresses 127.0.0.100..(99+K) not
#         seen before by this instance: new PTR questions in both modes,
#         and in ON 5 new blocklist questions per address (the sender
#         domain's rhsbl answer and the greylisting triplet, whose network
#         is 127.0.0.0/24, are already known).
# ON then checks that its lists really answer: a client on bl5 only
# (127.0.0.254) must get 550 with bl5's text, and a sender domain on
# rhs.test 550 with its text (these earn ban points; they come last).
#
# Printed (key=value; times in ms; p50/p99 nearest-rank):
#   round=R mode=off|on set=warm|cold n= ok= failed= PHASE_p50_ms= PHASE_p99_ms=...
#   round=R diff=on-off set=warm|cold PHASE_p50_ms= PHASE_p99_ms=...
#   median rounds=R mode=... / diff=on-off ...   (medians over the rounds;
#        the diff line is the median of the rounds' differences)
# PHASE: connect (connect() to the end of the 220: admission, the
# Connect: lookup), ehlo, mail (SPF; From: lookup; rhsbl asked), rcpt (the
# RCPT's write to its reply: To: lookup, blocklist answers, greylisting),
# data, dot (the final "." to its 250: mostly the spool fsync), quit, total
# (connect() to the 221) and nodot (total - dot per transaction: the fsync
# varies by milliseconds between messages, more than the defences cost).
# With K=50, the cold p99 is the slowest of the 50 (nearest rank).
# Then a short table of the p50 medians.  Timings on a shared machine
# drift: each round also prints the load average before it.
#
# The access map: gen-access.py from /work/shared/testdata/access (else the
# copy in tests/data/access/, else 25,000 similar lines made here, and the
# script says which), output copied into bench/tmp/policy-latency/; lines
# whose key would match the bench's clients or domains are dropped (and
# counted).
#
# Usage:  bench/policy-latency.sh            (as root; builds build/talon if
#                                             missing)
# Env:    ROUNDS=3 N=300 K=50 SIZE=2048 TIMEOUT=1200 (whole script, s)
#         LINES=25000 TALON=build/talon
# Never run by CI.  Prints figures, asserts nothing.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/authdns.sh"    # ensure_auth_users

ROUNDS=${ROUNDS:-3}
N=${N:-300}
K=${K:-50}
SIZE=${SIZE:-2048}
TIMEOUT=${TIMEOUT:-1200}
LINES=${LINES:-25000}
[[ "$ROUNDS" =~ ^[0-9]+$ && "$ROUNDS" -ge 1 && "$ROUNDS" -le 15 ]] || die "ROUNDS must be 1..15"
[[ "$N" =~ ^[0-9]+$ && "$N" -ge 1 && "$N" -le 20000 ]] || die "N must be 1..20000"
[[ "$K" =~ ^[0-9]+$ && "$K" -ge 1 && "$K" -le 150 ]] || die "K must be 1..150"
[[ "$SIZE" =~ ^[0-9]+$ && "$SIZE" -ge 2 && "$SIZE" -le 1048576 ]] || die "SIZE must be 2..1048576"
[[ "$TIMEOUT" =~ ^[0-9]+$ && "$TIMEOUT" -ge 30 && "$TIMEOUT" -le 86400 ]] ||
	die "TIMEOUT must be 30..86400"
[[ "$LINES" =~ ^[0-9]+$ && "$LINES" -ge 1 && "$LINES" -le 1000000 ]] ||
	die "LINES must be 1..1000000"

WARM_ADDR=127.0.0.2           # the measured client of the warm set
COLD_BASE=127.0.0.100         # the first of the K cold clients
LISTED_ADDR=127.0.0.254       # on bl5.test only: the ON check
RHS_CHECK_ADDR=127.0.0.253    # sends from a domain on rhs.test: the ON check
FROM=sender@sender.test
TO=bench@bench.test
PHASES=(connect ehlo mail rcpt data dot quit total nodot)
SHARED_GEN=/work/shared/testdata/access/gen-access.py
REPO_GEN=$REPO_DIR/tests/data/access/gen-access.py

need_root
lock policy-latency
WORK="$BENCH_TMP/policy-latency"
CLIENT_PID=""
on_exit() {
	client_stop
	talon_stop
	watchdog_stop
}
trap on_exit EXIT
trap 'exit 130' INT TERM
# the global timeout (lib.sh): SIGTERM to this script, whose trap stops
# everything; time_left gives the seconds left of it
watchdog_start "$TIMEOUT"

ensure_talon
ensure_auth_users
mkdir -p "$WORK"
CLIENT="$BENCH_TMP/policy_lat"
if [ ! -x "$CLIENT" ] || [ "$BENCH_DIR/policy_lat.c" -nt "$CLIENT" ]; then
	if ! cc -std=c17 -O2 -Wall -Wextra -o "$CLIENT.$$" "$BENCH_DIR/policy_lat.c" ||
	    ! mv -f "$CLIENT.$$" "$CLIENT"; then
		rm -f "$CLIENT.$$"
		die "cannot build policy_lat"
	fi
fi

# --- the access map ------------------------------------------------------------

# own_access_map LINES: a map shaped like gen-access.py's (hosts, /24 and
# /16 prefixes, domains, addresses, tagged keys, comments), for when no
# generator is at hand; never a key in 127/8
own_access_map() {
	/usr/bin/python3 - "$1" <<'PY'
import random, sys
r = random.Random(13)
acts = ["REJECT", "DISCARD", "OK", "550 not here", "ERROR:5.7.1:550 refused"]
for i in range(int(sys.argv[1])):
    k, a = r.random(), r.choice(acts)
    o = [r.choice([n for n in range(1, 224) if n != 127])] + [r.randint(0, 255) for _ in range(3)]
    if k < 0.02:
        print("# part %d" % i)
        continue
    if k < 0.45:
        key = "%d.%d.%d.%d" % tuple(o)
    elif k < 0.60:
        key = "%d.%d.%d" % tuple(o[:3])
    elif k < 0.65:
        key = "%d.%d" % tuple(o[:2])
    elif k < 0.82:
        key = "bulk%d.example" % r.randint(0, 10**6)
    elif k < 0.95:
        key = "u%d@news%d.example" % (r.randint(0, 10**6), r.randint(0, 10**4))
    else:
        key = r.choice(["From:", "To:", "Connect:"]) + "x%d.example" % r.randint(0, 10**6)
    print("%s\t%s" % (key, a))
PY
}

# make_access_map FILE: LINES lines from the first generator found; keys
# that would match the bench's clients (127.0.0.x and its prefixes) or
# domains are dropped.  Sets ACCESS_SRC and ACCESS_DROPPED.
make_access_map() {
	local out=$1 raw="$1.raw"
	if [ -r "$SHARED_GEN" ]; then
		ACCESS_SRC=$SHARED_GEN
		/usr/bin/python3 "$SHARED_GEN" --lines "$LINES" >"$raw" || die "$SHARED_GEN failed"
	elif [ -r "$REPO_GEN" ]; then
		ACCESS_SRC="$REPO_GEN (no $SHARED_GEN)"
		/usr/bin/python3 "$REPO_GEN" --lines "$LINES" >"$raw" || die "$REPO_GEN failed"
	else
		ACCESS_SRC="generated here (no gen-access.py found)"
		own_access_map "$LINES" >"$raw" || die "cannot generate an access map"
	fi
	awk -F'\t' -v dropped="$out.dropped" '
		{ key = $1; sub(/^(Connect|From|To):/, "", key); key = tolower(key) }
		key ~ /^127(\.0(\.0(\.[0-9]+)?)?)?$/ || key ~ /(^|[.@])(sender|bench|rhs)\.test$/ ||
		    key ~ /^(sender|bench)@$/ { n++; next }
		{ print }
		END { print n + 0 > dropped }' "$raw" >"$out" || die "cannot filter the access map"
	ACCESS_DROPPED=$(cat "$out.dropped")
	rm -f "$raw" "$out.dropped"
}

# --- zones and configs -----------------------------------------------------------

# zone_head ORIGIN: the SOA and NS of a bench zone; TTL and negative TTL
# 300 s, longer than a run, so that warm answers stay cached
zone_head() {
	# shellcheck disable=SC2016  # $ORIGIN and $TTL are zone-file words
	printf '$ORIGIN %s.\n$TTL 300\n' "$1"
	printf '@ IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 300\n' "$1" "$1"
	printf '  IN NS ns\nns IN A 127.0.0.1\n'
}

# write_zones DIR: the root (NXDOMAIN for every other name), the sender's
# domain with its SPF record, bl1..bl5.test (each lists documentation
# addresses, bl5 also LISTED_ADDR) and rhs.test (lists spammer.example)
write_zones() {
	local dir=$1 i
	cat >"$dir/root.zone" <<'ZONE'
$ORIGIN .
$TTL 300
@ IN SOA ns.root-servers.test. hostmaster.root-servers.test. 1 3600 600 86400 300
  IN NS ns.root-servers.test.
ns.root-servers.test. IN A 127.0.0.1
ZONE
	{
		zone_head sender.test
		printf 'probe IN A 127.0.0.1\n@ IN TXT "v=spf1 ip4:127.0.0.0/8 -all"\n'
	} >"$dir/sender.zone"
	for i in 1 2 3 4 5; do
		{
			zone_head "bl$i.test"
			printf '%s.2.0.192 IN A 127.0.0.2\n' 7 9 "$((10 + i))"
			printf '%s.100.51.198 IN A 127.0.0.4\n' 1 "$((20 + i))"
			[ "$i" = 5 ] && printf '254.0.0.127 IN A 127.0.0.2\n'
		} >"$dir/bl$i.zone"
	done
	{
		zone_head rhs.test
		printf 'spammer.example IN A 127.0.0.2\nbulk.example IN A 127.0.0.2\n'
	} >"$dir/rhs.zone"
}

# write_conf DIR SMTP_PORT DNS_PORT MODE: lib.sh's bench config, plus our
# dns server and resolver (both modes) and the defences (on)
write_conf() {
	local dir=$1 port=$2 dns=$3 mode=$4 i
	talon_write_conf "$dir" "$port"
	write_zones "$dir"
	{
		printf 'listen dns 127.0.0.1:%s\nlimit dns-responses 0\n' "$dns"
		printf 'zone . root.zone\nzone sender.test sender.zone\nzone rhs.test rhs.zone\n'
		for i in 1 2 3 4 5; do printf 'zone bl%s.test bl%s.zone\n' "$i" "$i"; done
		printf 'resolver forward 127.0.0.1@%s\n' "$dns"
	} >>"$dir/talon.conf"
	[ "$mode" = on ] || return 0
	cp "$WORK/access.map" "$dir/access"
	{
		printf 'access access\n'
		for i in 1 2 3 4; do printf 'dnsbl bl%s.test\n' "$i"; done
		printf 'dnsbl bl5.test text 550 5.7.1 {ip} is listed on list 5\n'
		printf 'rhsbl rhs.test from text sender domain {domain} is listed\n'
		printf 'greylist on\nlimit greylist-delay 1\npipelining-check on\nauto-ban on\n'
	} >>"$dir/talon.conf"
	chmod -R a+rX "$dir"
}

# --- one instance ------------------------------------------------------------------

# client LOG ARGS...: policy_lat against the running instance, bounded by
# what is left of the global timeout; sets CLIENT_LINE to its "lat" line
client() {
	local log=$1 tmo
	shift
	tmo=$(time_left)
	timeout -k 5 "$((tmo + 10))" "$CLIENT" -l "$SIZE" -f "$FROM" -t "$TO" -w 10 -T "$tmo" "$@" \
		>"$log" 2>&1 &
	CLIENT_PID=$!
	wait "$CLIENT_PID"
	CLIENT_PID=""
	CLIENT_LINE=$(grep '^lat ' "$log" | tail -n1)
}

# result line for one set: the key=value line of the client, checked
set_line() {
	local round=$1 mode=$2 set=$3 want=$4 ok
	ok=$(kv ok "$CLIENT_LINE")
	[ "${ok:-0}" = "$want" ] || say "bench: $mode/$set: only ${ok:-0} of $want transactions" \
		"went through; see $DIR/client-$set.log and $DIR/talon.log"
	echo "round=$round mode=$mode set=$set ${CLIENT_LINE#lat }"
}

# instance ROUND MODE: one talon, warm-up, the warm and cold sets; prints
# the result lines (and the ON checks) on stdout; the caller stops talon
instance() {
	local round=$1 mode=$2 port dns t0 res entries
	DIR="$WORK/run-$mode"
	port=$(free_port)
	dns=$(free_port)
	[ "$port" != "$dns" ] || dns=$(free_port)
	write_conf "$DIR" "$port" "$dns" "$mode"
	t0=$(now)
	talon_start "$DIR" "$port" || { say "bench: talon ($mode) did not start"; return 1; }
	res=$(timeout -k 5 40 /usr/bin/python3 "$BENCH_DIR/dns-probe.py" wait "$dns" \
		probe.sender.test 127.0.0.1 --t0 "$t0" --timeout 30 2>&1 | tail -n1)
	case $(kv answer_s "$res") in
	''|n/a) say "bench: talon ($mode) gives no DNS answer ($res)"; return 1 ;;
	esac
	if [ "$mode" = on ]; then
		wait_log "$DIR/talon.log" 'policy event=access file=.* entries=' 30 ||
			{ say "bench: no access map loaded; see $DIR/talon.log"; return 1; }
		entries=$(grep -oE 'policy event=access file=.* entries=[0-9]+' "$DIR/talon.log" |
			tail -n1 | sed 's/.*entries=//')
		echo "round=$round mode=on access_entries=$entries"
	fi
	# greylisting warm-up: the first try of the triplet (ON: 451 at RCPT),
	# the delay, then one that must go through
	client "$DIR/client-warmup1.log" -g -n 1 -b "$WARM_ADDR" "127.0.0.1:$port"
	echo "round=$round mode=$mode warmup=1 ok=$(kv ok "$CLIENT_LINE")" \
		"deferred=$(kv deferred "$CLIENT_LINE")"
	sleep 1.1
	client "$DIR/client-warmup2.log" -n 1 -b "$WARM_ADDR" "127.0.0.1:$port"
	[ "$(kv ok "$CLIENT_LINE")" = 1 ] ||
		say "bench: $mode: the warm-up after the greylisting delay did not go through" \
			"($(tail -n2 "$DIR/client-warmup2.log" | head -n1))"
	client "$DIR/client-warm.log" -n "$N" -b "$WARM_ADDR" "127.0.0.1:$port"
	set_line "$round" "$mode" warm "$N"
	client "$DIR/client-cold.log" -n "$K" -k "$K" -b "$COLD_BASE" "127.0.0.1:$port"
	set_line "$round" "$mode" cold "$K"
	[ "$mode" = on ] && on_checks "$round" "$port"
	return 0
}

# on_checks ROUND PORT: the lists answer (a listed client, a listed sender
# domain: 550 with the list's text); the greylisting pass and the spool
# are seen in the log
on_checks() {
	local round=$1 port=$2 bl rhs grey
	local l="$DIR/client-listed.log" r="$DIR/client-rhs.log"
	client "$l" -n 1 -b "$LISTED_ADDR" "127.0.0.1:$port"
	bl=no
	grep -q "rcpt: reply '550 5.7.1 $LISTED_ADDR is listed on list 5'" "$l" && bl=yes
	client "$r" -n 1 -b "$RHS_CHECK_ADDR" -f x@spammer.example "127.0.0.1:$port"
	rhs=no
	grep -q "rcpt: reply '550 5.7.1 sender domain spammer.example is listed'" "$r" && rhs=yes
	grey=$(grep -c 'event=greylist .*result=pass' "$DIR/talon.log")
	echo "round=$round mode=on check_bl5_refuses=$bl check_rhsbl_refuses=$rhs" \
		"greylist_passes=$grey"
	if [ "$bl" != yes ] || [ "$rhs" != yes ]; then
		say "bench: ON: a listed client or sender was not refused; see $l and $r"
	fi
}

# --- the rounds -------------------------------------------------------------------------

# minus A B: A - B, 3 decimals; n/a unless both are numbers
minus() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		num = "^-?[0-9]+([.][0-9]+)?$"
		if (a !~ num || b !~ num) print "n/a"; else printf "%.3f", a - b }'
}

make_access_map "$WORK/access.map"
say "bench: access map: $(grep -cv '^#' "$WORK/access.map") entries of $LINES lines from" \
	"$ACCESS_SRC; $ACCESS_DROPPED dropped (would match the bench's clients or domains)"
say "bench: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg);" \
	"ROUNDS=$ROUNDS N=$N K=$K SIZE=$SIZE TIMEOUT=$TIMEOUT; talon: $TALON"
echo "note=\"no greet pause in ON: it would only add its own fixed wait before the 220\""
echo "note=\"both modes serve the same zones and resolve through their own dns process;" \
	"PTR and SPF are asked in both\""

declare -A V=()    # "mode set key" or "diff set key" -> the rounds' values
LINE_FILE="$WORK/line.txt"
done_rounds=0
for ((round = 1; round <= ROUNDS; round++)); do
	# a round that cannot finish is not started (the first one always is)
	if ((round > 1)) && [ "$(time_left)" -lt 30 ]; then
		say "bench: under 30 s of the global timeout left: stopping after" \
			"$done_rounds round(s)"
		break
	fi
	echo "== round $round/$ROUNDS =="
	echo "round=$round loadavg=$(cut -d' ' -f1 /proc/loadavg)"
	order=(off on)
	((round % 2 == 0)) && order=(on off)
	declare -A cur=()
	for mode in "${order[@]}"; do
		# not in $(...): talon must run in this shell, where the traps can stop it
		instance "$round" "$mode" >"$LINE_FILE" || say "bench: round $round, $mode failed"
		talon_stop
		cat "$LINE_FILE"
		for set in warm cold; do
			l=$(grep "^round=$round mode=$mode set=$set " "$LINE_FILE")
			for p in "${PHASES[@]}"; do
				for q in p50 p99; do
					v=$(kv "${p}_${q}_ms" "$l")
					cur["$mode $set ${p}_${q}_ms"]=${v:-n/a}
					V["$mode $set ${p}_${q}_ms"]+="${v:-n/a} "
				done
			done
		done
	done
	for set in warm cold; do
		out="round=$round diff=on-off set=$set"
		for p in "${PHASES[@]}"; do
			for q in p50 p99; do
				k="${p}_${q}_ms"
				d=$(minus "${cur["on $set $k"]}" "${cur["off $set $k"]}")
				V["diff $set ${p}_${q}_ms"]+="$d "
				out+=" ${p}_${q}_ms=$d"
			done
		done
		echo "$out"
	done
	unset cur
	done_rounds=$round
done

echo
echo "== medians over $done_rounds round(s): N=$N warm, K=$K cold, SIZE=$SIZE; ms =="
for who in off on diff; do
	for set in warm cold; do
		if [ "$who" = diff ]; then out="median rounds=$done_rounds diff=on-off set=$set"
		else out="median rounds=$done_rounds mode=$who set=$set"; fi
		for p in "${PHASES[@]}"; do
			for q in p50 p99; do
				# shellcheck disable=SC2086  # the values, one word each
				out+=" ${p}_${q}_ms=$(median ${V["$who $set ${p}_${q}_ms"]:-})"
			done
		done
		echo "$out"
	done
done

echo
echo "== p50 (ms), medians over $done_rounds round(s) =="
printf '%-6s %-8s %10s %10s %10s\n' set phase off on on-off
for set in warm cold; do
	for p in connect mail rcpt nodot total; do
		k="${p}_p50_ms"
		# shellcheck disable=SC2086
		printf '%-6s %-8s %10s %10s %10s\n' "$set" "$p" "$(median ${V["off $set $k"]:-})" \
			"$(median ${V["on $set $k"]:-})" "$(median ${V["diff $set $k"]:-})"
	done
done
echo "(on-off: the median of the rounds' differences; no greet pause in ON)"
