#!/bin/bash
# bench/dns-qps.sh - queries per second of talon's authoritative DNS server
# over UDP on 127.0.0.1, set against NSD and Knot DNS in the same run, with
# the memory each one takes for a 100,000-record zone and the time it takes
# to load it.
#
# Three servers, each on its own free high port, each with one worker on
# the same CPU (SRV_CPU, default 1; `taskset` for the whole process tree):
#   talon: `talon -c FILE serve` with `listen dns` and two `zone` lines
#          (its one dns process; the parent, the smtp worker and the other
#          roles are started too, idle);
#   nsd:   `nsd -d`, server-count: 1, rrl-ratelimit: 0, database: "" (zones
#          read from the files), minimal-responses: yes (talon and knot do
#          not add authority/additional data to positive answers either);
#   knot:  `knotd`, udp-workers: 1, tcp-workers: 1, background-workers: 1,
#          no modules (so no RRL), journal-content: none.
# Each serves both zones: the seed zone nmrc.org
# (tests/data/dns/nmrc.org.zone, a copy of the shared test data) and bench.test, 100,000 records
# made by bench/gen-zone.py (with their query files; see that file for the
# mixes: answers, CNAMEs, NODATA, about 20% NXDOMAIN).
#
# Each round (RUNS, default 3), in an order that rotates from round to round:
#   1. every server is started in turn and timed until it gives the right A
#      for probe.bench.test (the last record of the 100k zone): load_s; for
#      talon also until its log says "dns event=zones" (log_s);
#      then the VmRSS and Pss sums over its process tree (and, for talon,
#      of the dns process alone);
#   2. bench/dns-probe.py check: a few questions with known answers to each
#      server, and a sample of both query files put to all three, talon's
#      answers set against NSD's and Knot's (RCODE, AA, answer RRsets,
#      authority types); the first differences are printed;
#   3. dnsperf (on CLI_CPU, default 0) against each server for each zone,
#      flat out: `dnsperf -s 127.0.0.1 -p PORT -d QUERYFILE -l DURATION
#      $DNSPERF_OPTS`, bounded by `timeout`: queries/s, lost queries, RCODE
#      shares, average answer size and latency, and the CPU used by the
#      server's tree and by dnsperf over the run, and how busy both CPUs
#      were with anything (cpuN_busy_pct), and what other processes took of
#      them (others_pct=SRV_CPU/CLI_CPU, busy minus our own).  bound=shared:
#      others took 25% or more of one of the two CPUs, and the figures say
#      how much they left; bound=server: the server used a whole CPU;
#      bound=client: dnsperf did and the server did not, so the qps is
#      dnsperf's ceiling (one core of dnsperf does about as much work per
#      query as one core of server); bound=neither: no CPU was full, and the
#      qps is the 100 queries dnsperf keeps in flight over the latency (the
#      time to wake a process on an idle virtual CPU counts there).  Except
#      with bound=server, srv_us_per_q, the server's CPU per answered
#      query, is the figure to compare;
#      then, with RATE > 0 (default 30000), the 100k zone once more at that
#      fixed rate (-Q), which every server keeps up with: CPU per query at
#      equal load;
#   4. every server is stopped (SIGTERM, then SIGKILL after 20 s).
# Then medians over the rounds, and ratios taken within each round, then
# their median.  A signal stops dnsperf and every server at once (EXIT
# trap); nothing is left running.
#
# Usage:  bench/dns-qps.sh            (as root; installs nsd, knot, dnsperf
#         if missing, with no service started or left enabled; builds
#         build/talon if missing)
# Env:    RUNS=3 DURATION=10 RECORDS=100000 QUERIES=200000 SRV_CPU=1 CLI_CPU=0
#         RATE=30000 (0: no fixed-rate runs) DNSPERF_OPTS="-c 1 -T 1 -q 100"
#         SERVERS="talon nsd knot" TALON=build/talon
# Never run by CI.  Prints figures, asserts nothing.
set -u
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
RECORDS=${RECORDS:-100000}
QUERIES=${QUERIES:-200000}
SRV_CPU=${SRV_CPU:-1}
CLI_CPU=${CLI_CPU:-0}
DNSPERF_OPTS=${DNSPERF_OPTS:--c 1 -T 1 -q 100}
RATE=${RATE:-30000}
SERVERS=${SERVERS:-talon nsd knot}
NMRC_ZONE=${NMRC_ZONE:-$BENCH_DIR/../tests/data/dns/nmrc.org.zone}
[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -ge 1 && "$RUNS" -le 15 ]] || die "RUNS must be 1..15"
[[ "$DURATION" =~ ^[0-9]+$ && "$DURATION" -ge 1 && "$DURATION" -le 120 ]] || die "DURATION must be 1..120"
[[ "$RATE" =~ ^[0-9]+$ && "$RATE" -le 1000000 ]] || die "RATE must be 0..1000000"
[[ "$RECORDS" =~ ^[0-9]+$ && "$RECORDS" -ge 100 && "$RECORDS" -le 2000000 ]] || die "RECORDS must be 100..2000000"
[[ "$QUERIES" =~ ^[0-9]+$ && "$QUERIES" -ge 100 && "$QUERIES" -le 2000000 ]] || die "QUERIES must be 100..2000000"
for s in $SERVERS; do
	case $s in talon|nsd|knot) ;; *) die "SERVERS: unknown server $s (talon, nsd, knot)" ;; esac
done
[ -r "$NMRC_ZONE" ] || die "no seed zone at $NMRC_ZONE"
ncpu=$(nproc)
[ "$SRV_CPU" -lt "$ncpu" ] && [ "$CLI_CPU" -lt "$ncpu" ] || die "SRV_CPU/CLI_CPU must be below $ncpu"

need_root

DDIR="$BENCH_TMP/dns"

# A Ctrl-C goes to the whole foreground process group, and bash does not
# reliably act on it: it ignores a SIGINT when the foreground child it was
# waiting for (a $(...), say) exits normally after it, and bash 5.2 can fail
# to parse a trap, or abort ("reader_loop: bad jump"), when a signal lands
# while it expands a $(...).  So the work runs in a session of its own,
# where no terminal signal reaches it, and this outer shell, which does
# nothing but wait, stops it on a signal: SIGKILL to the worker shell (no
# trap to go wrong), then SIGTERM to every process left in its session and
# to the servers it recorded, SIGKILL to any still there 20 s later.
if [ -z "${DNS_QPS_OUTER:-}" ]; then
	mkdir -p "$DDIR"
	DNS_QPS_OUTER=$$ setsid "$BASH" "$0" "$@" &
	inner=$!
	# shellcheck disable=SC2317  # run from the trap below
	stop_inner() {
		local left i p
		trap '' INT TERM
		kill -KILL "$inner" 2>/dev/null
		wait "$inner" 2>/dev/null
		for ((i = 0; i < 200; i++)); do
			left=$( { pgrep -s "$inner"; cat "$DDIR/pids" 2>/dev/null; } | sort -u |
				while read -r p; do kill -0 "$p" 2>/dev/null && echo "$p"; done)
			[ -n "$left" ] || break
			# shellcheck disable=SC2086
			if [ "$i" = 0 ]; then kill -TERM $left 2>/dev/null; fi
			sleep 0.1
		done
		# shellcheck disable=SC2086
		[ -n "$left" ] && { say "bench: still running 20 s after SIGTERM, killed: $left"; kill -KILL $left 2>/dev/null; }
		if grep -qs 'temporary, bench/dns-qps.sh' /usr/sbin/policy-rc.d; then rm -f /usr/sbin/policy-rc.d; fi
		say "bench: interrupted; everything it started is stopped"
		exit 130
	}
	trap stop_inner INT TERM
	rc=0
	wait "$inner" || rc=$?
	exit "$rc"
fi
# the outer shell is gone (SIGKILL): stop too
outer_alive() { kill -0 "$DNS_QPS_OUTER" 2>/dev/null || die "the calling shell is gone; stopping"; }

lock dns-qps
rm -f "$DDIR/pids"    # the servers' pids, for the outer shell's cleanup

PY=/usr/bin/python3
declare -A SPID=()      # server -> main pid (running)
declare -A SPORT=()     # server -> port
PERF_PID=""
PROBE_PID=""

# stop_server NAME: SIGTERM to its main process, a bounded wait, then
# SIGKILL to whatever is left of its tree
stop_server() {
	local s=$1 pid i left
	pid=${SPID[$s]:-}
	[ -n "$pid" ] || return 0
	left=$(descendants "$pid")
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "bench: $s (pid $pid) still running 20 s after SIGTERM; killing it"
		left="$left $(descendants "$pid")"
	fi
	for i in $left; do kill -0 "$i" 2>/dev/null && kill -KILL "$i" 2>/dev/null; done
	wait "$pid" 2>/dev/null
	unset "SPID[$s]"
}

on_exit() {
	[ -n "$PERF_PID" ] && { kill -TERM "$PERF_PID" 2>/dev/null; wait "$PERF_PID" 2>/dev/null; }
	[ -n "$PROBE_PID" ] && { kill -TERM "$PROBE_PID" 2>/dev/null; wait "$PROBE_PID" 2>/dev/null; }
	local s
	for s in "${!SPID[@]}"; do stop_server "$s"; done
	cleanup_policy_rc
}
trap on_exit EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# --- packages -----------------------------------------------------------------

# ensure_dns_peers: nsd, knot, dnsperf, installed when missing with no
# service started (a policy-rc.d of ours while none exists) and, for what we
# installed, the services disabled again (deb-systemd-helper enables them
# whether or not anything may start); a daemon of theirs that appeared all
# the same is stopped
ensure_dns_peers() {
	local -a pkgs=() units=()
	command -v nsd >/dev/null 2>&1 || { pkgs+=(nsd); units+=(nsd); }
	command -v knotd >/dev/null 2>&1 || { pkgs+=(knot); units+=(knot); }
	command -v dnsperf >/dev/null 2>&1 || pkgs+=(dnsperf)
	[ ${#pkgs[@]} -eq 0 ] && return 0
	local before after p u
	before=$(pgrep -x 'nsd|knotd' | sort)
	say "bench: installing ${pkgs[*]}"
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\n# temporary, bench/dns-qps.sh: no service starts during the install\nexit 101\n' \
			>/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		# shellcheck disable=SC2034  # read by cleanup_policy_rc (lib.sh)
		POLICY_RC_CREATED=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/dev/null; then
		apt-get update -q >/dev/null
		apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/dev/null ||
			{ cleanup_policy_rc; die "apt-get install ${pkgs[*]} failed"; }
	fi
	cleanup_policy_rc
	for u in ${units[@]+"${units[@]}"}; do
		if command -v deb-systemd-helper >/dev/null 2>&1; then
			deb-systemd-helper disable "$u.service" >/dev/null 2>&1 || true
		fi
		[ -e "/etc/init.d/$u" ] && { update-rc.d "$u" disable >/dev/null 2>&1 || true; }
	done
	after=$(pgrep -x 'nsd|knotd' | sort)
	for p in $(comm -13 <(printf '%s\n' $before) <(printf '%s\n' $after)); do
		say "bench: stopping $(cat "/proc/$p/comm" 2>/dev/null) (pid $p), started by the install"
		kill -TERM "$p" 2>/dev/null
	done
	for p in nsd knotd dnsperf; do
		command -v "$p" >/dev/null 2>&1 || die "$p still missing after the install"
	done
}

# --- configs ------------------------------------------------------------------

# conf_talon DIR PORT
conf_talon() {
	local dir=$1 port=$2
	talon_write_conf "$dir" 0
	# no smtp listener: only the dns process is asked anything
	sed -i -e '/^listen smtp/d' -e 's/^workers .*/workers 1/' "$dir/talon.conf"
	cat >>"$dir/talon.conf" <<CONF
listen dns 127.0.0.1:$port
# rate limiting off, as for NSD (rrl-ratelimit: 0) and Knot (no rrl module)
limit dns-responses 0
zone nmrc.org $NMRC_ZONE
zone bench.test $DDIR/gen/bench.test.zone
CONF
}

conf_nsd() {
	local dir=$1 port=$2
	rm -rf "$dir"; mkdir -p "$dir"
	cat >"$dir/nsd.conf" <<CONF
# written by bench/dns-qps.sh for one run
server:
	server-count: 1
	ip-address: 127.0.0.1@$port
	do-ip6: no
	database: ""
	zonelistfile: "$dir/zone.list"
	xfrdfile: "$dir/xfrd.state"
	pidfile: "$dir/nsd.pid"
	logfile: "$dir/nsd.log"
	zonesdir: "$dir"
	username: ""
	chroot: ""
	verbosity: 1
	minimal-responses: yes
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
	zonefiles-write: 0
remote-control:
	control-enable: no
zone:
	name: nmrc.org
	zonefile: "$NMRC_ZONE"
zone:
	name: bench.test
	zonefile: "$DDIR/gen/bench.test.zone"
CONF
}

conf_knot() {
	local dir=$1 port=$2
	rm -rf "$dir"; mkdir -p "$dir/db"
	cat >"$dir/knot.conf" <<CONF
# written by bench/dns-qps.sh for one run
server:
    rundir: "$dir"
    pidfile: "$dir/knot.pid"
    listen: 127.0.0.1@$port
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: "$dir/knot.log"
    any: info
database:
    storage: "$dir/db"
control:
    listen: "$dir/knot.sock"
template:
  - id: default
    storage: "$dir"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: nmrc.org
    file: "$NMRC_ZONE"
  - domain: bench.test
    file: "$DDIR/gen/bench.test.zone"
CONF
}

# start_server NAME: config, start on SRV_CPU, wait for the probe answer;
# prints "load_s=X [log_s=Y]" (n/a when it never answered)
start_server() {
	local s=$1 dir="$DDIR/$1" port t0 res
	outer_alive
	port=$(free_port)
	SPORT[$s]=$port
	"conf_$s" "$dir" "$port"
	t0=$(now)
	case $s in
	talon) taskset -c "$SRV_CPU" "$TALON" -c "$dir/talon.conf" serve >"$dir/talon.log" 2>&1 & ;;
	nsd)   taskset -c "$SRV_CPU" nsd -d -c "$dir/nsd.conf" >"$dir/stderr.log" 2>&1 & ;;
	knot)  taskset -c "$SRV_CPU" knotd -c "$dir/knot.conf" >"$dir/stderr.log" 2>&1 & ;;
	esac
	SPID[$s]=$!
	echo "${SPID[$s]}" >>"$DDIR/pids"
	local -a logargs=()
	[ "$s" = talon ] && logargs=(--log "$dir/talon.log" --pattern "dns event=zones")
	taskset -c "$CLI_CPU" "$PY" "$BENCH_DIR/dns-probe.py" wait "$port" probe.bench.test 198.19.255.254 \
		--t0 "$t0" --timeout 120 ${logargs[@]+"${logargs[@]}"} >"$dir/wait.txt" 2>&1 &
	PROBE_PID=$!
	wait "$PROBE_PID"
	PROBE_PID=""
	res=$(tail -n1 "$dir/wait.txt")
	if [ "$(kv answer_s "$res")" = n/a ] || ! kill -0 "${SPID[$s]}" 2>/dev/null; then
		say "bench: $s gave no right answer for probe.bench.test in 120 s; its logs:"
		tail -n 15 "$dir"/*.log >&2
	fi
	echo "load_s=$(kv answer_s "$res")${logargs[0]+ log_s=$(kv log_s "$res")}"
}

# pin_tree NAME: every thread of the server's tree on SRV_CPU.  taskset at
# the start is inherited, but a server may pin its own threads: Knot puts
# UDP worker N on CPU N mod ncpu, i.e. its one worker on CPU 0, with
# dnsperf.  Prints how many threads had to be moved back.
pin_tree() {
	local p t n=0
	for p in $(descendants "${SPID[$1]}"); do
		for t in /proc/"$p"/task/*; do
			[ "$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$t/status" 2>/dev/null)" = "$SRV_CPU" ] && continue
			[ -d "$t" ] || continue
			taskset -p -c "$SRV_CPU" "${t##*/}" >/dev/null 2>&1 && n=$((n + 1))
		done
	done
	echo "$n"
}

# rss_kb PID...: sum of VmRSS
rss_kb() {
	local p
	for p in "$@"; do awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null; done |
		awk '{ s += $1 } END { print s + 0 }'
}
pss_kb() {
	local p
	for p in "$@"; do awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null; done |
		awk '{ s += $1 } END { print s + 0 }'
}
# mem_line NAME: rss_kb pss_kb nprocs of the tree [dns_rss_kb dns_pss_kb]
mem_line() {
	local s=$1 pids dnspid out
	pids=$(descendants "${SPID[$s]}")
	out="rss_kb=$(rss_kb $pids) pss_kb=$(pss_kb $pids) procs=$(echo $pids | wc -w)"
	if [ "$s" = talon ]; then
		dnspid=$(for p in $pids; do
			[ "$(stat -c %U "/proc/$p" 2>/dev/null)" = _talondns ] && echo "$p"; done | head -n1)
		out+=" dns_rss_kb=$(rss_kb $dnspid) dns_pss_kb=$(pss_kb $dnspid)"
	fi
	echo "$out"
}

# dnsperf_run NAME ZONE QUERYFILE TAG [DNSPERF ARGS...]: one dnsperf run,
# bounded by `timeout`; prints a key=value line: qps, lost queries, RCODE
# shares, answer size, latency; srv_cpu_pct and cli_cpu_pct, the CPU the
# server's tree and dnsperf used over the run (% of one CPU); srv_us_per_q,
# the server's CPU per answered query; the busy share of both CPUs (all
# processes, from /proc/stat); bound=server|client|shared|neither (see the
# head of this file)
dnsperf_run() {
	local s=$1 zone=$2 qf=$3 tag=$4
	shift 4
	local out="$DDIR/dnsperf-$s-$zone-$tag.txt" tf="$DDIR/dnsperf-$s-$zone-$tag.time"
	local c0 c1 rc=0 moved qps sent ndone lost codes size lat runt pct_noerr pct_nx cli srv other bound
	outer_alive
	if ! kill -0 "${SPID[$s]}" 2>/dev/null; then
		say "bench: $s (pid ${SPID[$s]}) is gone; the end of its logs:"
		tail -n 15 "$DDIR/$s"/*.log >&2
		die "$s died before its dnsperf run ($zone, $tag)"
	fi
	moved=$(pin_tree "$s")
	[ "$moved" = 0 ] || say "bench: $s: $moved thread(s) had left CPU $SRV_CPU; moved back"
	c0=$(tree_cpu "${SPID[$s]}")
	local sb0 sb1 cb0 cb1 sbusy cbusy
	sb0=$(cpu_stat "$SRV_CPU"); cb0=$(cpu_stat "$CLI_CPU")
	# shellcheck disable=SC2086
	timeout -k 5 $((DURATION + 30)) taskset -c "$CLI_CPU" /usr/bin/time -f '%e %U %S' -o "$tf" \
		dnsperf -s 127.0.0.1 -p "${SPORT[$s]}" -d "$qf" -l "$DURATION" $DNSPERF_OPTS "$@" >"$out" 2>&1 &
	PERF_PID=$!
	wait "$PERF_PID" || rc=$?
	PERF_PID=""
	c1=$(tree_cpu "${SPID[$s]}")
	sb1=$(cpu_stat "$SRV_CPU"); cb1=$(cpu_stat "$CLI_CPU")
	sbusy=$(busy_pct "$sb0" "$sb1"); cbusy=$(busy_pct "$cb0" "$cb1")
	qps=$(sed -n 's/^ *Queries per second: *\([0-9.]*\).*/\1/p' "$out")
	sent=$(sed -n 's/^ *Queries sent: *\([0-9]*\).*/\1/p' "$out")
	ndone=$(sed -n 's/^ *Queries completed: *\([0-9]*\).*/\1/p' "$out")
	lost=$(sed -n 's/^ *Queries lost: *\([0-9]*\).*/\1/p' "$out")
	codes=$(sed -n 's/^ *Response codes: *//p' "$out")
	size=$(sed -n 's/^ *Average packet size: *request [0-9]*, response \([0-9]*\).*/\1/p' "$out")
	lat=$(sed -n 's/^ *Average Latency (s): *\([0-9.]*\).*/\1/p' "$out")
	runt=$(sed -n 's/^ *Run time (s): *\([0-9.]*\).*/\1/p' "$out")
	if [ "$rc" != 0 ] || [ -z "$qps" ]; then
		say "bench: dnsperf against $s ($zone) exited with $rc (124 = timeout); last lines of $out:"
		tail -n 5 "$out" >&2
	fi
	qps=$(awk -v q="${qps:-x}" 'BEGIN { if (q ~ /^[0-9.]+$/) printf "%.0f", q; else print "n/a" }')
	pct_noerr=$(sed -n 's/.*NOERROR [0-9]* (\([0-9.]*\)%).*/\1/p' <<<"$codes")
	pct_nx=$(sed -n 's/.*NXDOMAIN [0-9]* (\([0-9.]*\)%).*/\1/p' <<<"$codes")
	other=$(grep -oE '(SERVFAIL|REFUSED|FORMERR|NOTIMP|NOTAUTH|YXDOMAIN)' <<<"$codes" | sort -u | paste -sd, -)
	cli=$(awk '{ if ($1 > 0) printf "%.0f", 100 * ($2 + $3) / $1 }' "$tf" 2>/dev/null)
	srv=$(awk -v a="$c0" -v b="$c1" -v d="${runt:-$DURATION}" 'BEGIN { printf "%.0f", 100 * (b - a) / d }')
	# what other processes took of the two CPUs (busy minus our own)
	local osrv ocli
	osrv=$(( ${sbusy/n\/a/0} - srv )); ocli=$(( ${cbusy/n\/a/0} - ${cli:-0} ))
	[ "$osrv" -lt 0 ] && osrv=0
	[ "$ocli" -lt 0 ] && ocli=0
	bound=neither
	if [ "$osrv" -ge 25 ] || [ "$ocli" -ge 25 ]; then
		bound=shared
	elif [ "$srv" -ge 90 ]; then
		bound=server
	elif [ "${cli:-0}" -ge 90 ]; then
		bound=client
	fi
	echo "server=$s zone=$zone run=$tag qps=$qps sent=${sent:-n/a} lost=${lost:-n/a}" \
		"lost_pct=$(awk -v l="${lost:-x}" -v n="${sent:-0}" 'BEGIN { if (l ~ /^[0-9]+$/ && n > 0) printf "%.3f", 100 * l / n; else print "n/a" }')" \
		"noerror_pct=${pct_noerr:-0} nxdomain_pct=${pct_nx:-0} other_rcodes=${other:-none}" \
		"resp_bytes=${size:-n/a} lat_ms=$(awk -v l="${lat:-x}" 'BEGIN { if (l ~ /^[0-9.]+$/) printf "%.3f", l * 1000; else print "n/a" }')" \
		"srv_cpu_pct=$srv cli_cpu_pct=${cli:-n/a} cpu${SRV_CPU}_busy_pct=$sbusy cpu${CLI_CPU}_busy_pct=$cbusy" \
		"others_pct=$osrv/$ocli" \
		"srv_us_per_q=$(awk -v a="$c0" -v b="$c1" -v n="${ndone:-0}" 'BEGIN { if (n > 0) printf "%.2f", 1e6 * (b - a) / n; else print "n/a" }')" \
		"bound=$bound"
}

# cpu_stat N: "busy total" jiffies of CPU N from /proc/stat (busy: all but
# idle and iowait; steal counts as busy: the host gave the time to others)
cpu_stat() {
	awk -v c="cpu$1" '$1 == c { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}
# busy_pct "B0 T0" "B1 T1": busy share of the interval, %
busy_pct() {
	awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ")
		if (y[2] > x[2]) printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2]); else print "n/a" }'
}

# check_line LINE: say so when a dnsperf run lost queries or got an RCODE
# other than NOERROR/NXDOMAIN
check_line() {
	local lp
	lp=$(kv lost_pct "$1")
	if [ "$lp" = n/a ] || awk -v l="$lp" 'BEGIN { exit !(l > 0.1) }'; then
		say "bench: NOTE: $(kv server "$1") ($(kv zone "$1"), $(kv run "$1")) lost $(kv lost "$1") of $(kv sent "$1") queries"
	fi
	[ "$(kv other_rcodes "$1")" = none ] ||
		say "bench: NOTE: $(kv server "$1") ($(kv zone "$1")) answered $(kv other_rcodes "$1") to some queries"
}

# --- main -------------------------------------------------------------------------

ensure_dns_peers
[[ " $SERVERS " == *" talon "* ]] && { ensure_talon; ensure_user _talondns; ensure_user _talonmail; ensure_user _talonpol; }
mkdir -p "$DDIR/gen"
GEN_STAMP="$DDIR/gen/params"
if [ "$(cat "$GEN_STAMP" 2>/dev/null)" != "$RECORDS $QUERIES $(stat -c %Y "$BENCH_DIR/gen-zone.py")" ]; then
	"$PY" "$BENCH_DIR/gen-zone.py" zone "$DDIR/gen/bench.test.zone" "$DDIR/gen/bench.test.queries" \
		--records "$RECORDS" --queries "$QUERIES" || die "gen-zone.py failed"
	"$PY" "$BENCH_DIR/gen-zone.py" nmrc "$DDIR/gen/nmrc.queries" || die "gen-zone.py failed"
	echo "$RECORDS $QUERIES $(stat -c %Y "$BENCH_DIR/gen-zone.py")" >"$GEN_STAMP"
fi
chmod -R a+rX "$DDIR/gen"

say "bench: $(nproc) cores, servers on CPU $SRV_CPU, dnsperf on CPU $CLI_CPU; RUNS=$RUNS DURATION=${DURATION}s RECORDS=$RECORDS"
say "bench: load average now: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this machine skews everything)"
say "bench: talon=${TALON:-n/a} $(nsd -v 2>&1 | head -n1) knot $(knotd -V 2>&1 | awk '{ print $NF }') $(dnsperf -h 2>&1 | grep -m1 -oE 'dnsperf [0-9.]+' || echo dnsperf)"

read -r -a SL <<<"$SERVERS"
nsrv=${#SL[@]}
ZONES=(nmrc.org bench.test)
declare -A QF=([nmrc.org]="$DDIR/gen/nmrc.queries" [bench.test]="$DDIR/gen/bench.test.queries")
declare -A V=()    # "key server" -> the values of all rounds, space-separated
add() { V["$1 $2"]+="${3:-n/a} "; }
med() { median ${V["$1 $2"]:-}; }
last_of() { local -a vals=(${V["$1 $2"]:-n/a}); echo "${vals[-1]}"; }

N_MAX=0 N_CLIENT=0 N_SHARED=0
for ((run = 1; run <= RUNS; run++)); do
	# the order rotates from round to round
	order=()
	for ((i = 0; i < nsrv; i++)); do order+=("${SL[$(((i + run - 1) % nsrv))]}"); done
	echo "== round $run/$RUNS (order: ${order[*]}) =="
	# started one after the other, so that no load overlaps another; then
	# they all run, idle but for the one dnsperf asks.  Not in $(...): the
	# pids must be known to this shell, where the EXIT trap stops them.
	for s in "${order[@]}"; do
		start_server "$s" >"$DDIR/start-$s.txt"
		st="$(tail -n1 "$DDIR/start-$s.txt") repinned_threads=$(pin_tree "$s")"
		sleep 0.5
		mem_line "$s" >"$DDIR/mem-$s.txt"
		m=$(tail -n1 "$DDIR/mem-$s.txt")
		echo "loaded server=$s bench.test_records=$RECORDS $st $m"
		add load "$s" "$(kv load_s "$st")"; add log "$s" "$(kv log_s "$st")"
		add rss "$s" "$(kv rss_kb "$m")"; add pss "$s" "$(kv pss_kb "$m")"
		add drss "$s" "$(kv dns_rss_kb "$m")"; add dpss "$s" "$(kv dns_pss_kb "$m")"
	done
	# the checks: talon first, so the others are set against it
	cargs=()
	for s in talon nsd knot; do [ -n "${SPID[$s]:-}" ] && cargs+=("$s=${SPORT[$s]}"); done
	timeout -k 5 120 taskset -c "$CLI_CPU" "$PY" "$BENCH_DIR/dns-probe.py" check "${cargs[@]}" \
		--sample "${QF[nmrc.org]}:100" --sample "${QF[bench.test]}:400" >"$DDIR/check.txt" 2>&1 &
	PROBE_PID=$!
	wait "$PROBE_PID"
	PROBE_PID=""
	cat "$DDIR/check.txt"
	for z in "${ZONES[@]}"; do
		ref_nx=""
		for s in "${order[@]}"; do
			dnsperf_run "$s" "$z" "${QF[$z]}" max >"$DDIR/perf-line.txt"
			l=$(tail -n1 "$DDIR/perf-line.txt")
			echo "dnsperf $l"
			# the same query file gives the same NXDOMAIN share, give or take
			# where in the file each run stopped
			nx=$(kv nxdomain_pct "$l")
			if [ -z "$ref_nx" ]; then
				ref_nx="$nx ${s}"
			elif awk -v a="${ref_nx% *}" -v b="$nx" 'BEGIN { d = a - b; exit !(d > 0.5 || d < -0.5) }'; then
				say "bench: NOTE: $s answered NXDOMAIN to $nx% of the $z queries, ${ref_nx#* } to ${ref_nx% *}%"
			fi
			add "qps-$z" "$s" "$(kv qps "$l")"; add "lost-$z" "$s" "$(kv lost_pct "$l")"
			add "scpu-$z" "$s" "$(kv srv_cpu_pct "$l")"; add "ccpu-$z" "$s" "$(kv cli_cpu_pct "$l")"
			add "lat-$z" "$s" "$(kv lat_ms "$l")"; add "us-$z" "$s" "$(kv srv_us_per_q "$l")"
			check_line "$l"
			N_MAX=$((N_MAX + 1))
			[ "$(kv bound "$l")" = client ] && N_CLIENT=$((N_CLIENT + 1))
			[ "$(kv bound "$l")" = shared ] && N_SHARED=$((N_SHARED + 1))
			add "sbusy-$z" "$s" "$(kv "cpu${SRV_CPU}_busy_pct" "$l")"
		done
	done
	# talon's answers while dnsperf keeps it busy, set against an idle peer's
	# (first round only; a run of its own, not counted): a batch answered
	# from the wrong buffer or to the wrong client would show here, where
	# dnsperf only sees RCODEs and ids
	if [ "$run" = 1 ] && [ -n "${SPID[talon]:-}" ]; then
		ref=""
		for p in nsd knot; do [ -n "${SPID[$p]:-}" ] && { ref="$p=${SPORT[$p]}"; break; }; done
		# shellcheck disable=SC2086
		timeout -k 5 $((DURATION + 60)) taskset -c "$CLI_CPU" "$PY" "$BENCH_DIR/dns-probe.py" check \
			$ref "talon=${SPORT[talon]}" --label underload --delay 1 \
			--sample "${QF[nmrc.org]}:100" --sample "${QF[bench.test]}:400" >"$DDIR/check-load.txt" 2>&1 &
		PROBE_PID=$!
		dnsperf_run talon bench.test "${QF[bench.test]}" underload >"$DDIR/perf-line.txt"
		wait "$PROBE_PID"
		PROBE_PID=""
		echo "dnsperf $(tail -n1 "$DDIR/perf-line.txt") (not counted: the check below ran beside it)"
		grep -v "server=${ref%%=*} " "$DDIR/check-load.txt"
	fi
	# the same zone at a fixed rate that every server keeps up with: the
	# CPU each one spends per query when dnsperf is not the limit
	if [ "$RATE" -gt 0 ]; then
		for s in "${order[@]}"; do
			dnsperf_run "$s" bench.test "${QF[bench.test]}" "rate$RATE" -Q "$RATE" >"$DDIR/perf-line.txt"
			l=$(tail -n1 "$DDIR/perf-line.txt")
			echo "dnsperf $l"
			add rate-us "$s" "$(kv srv_us_per_q "$l")"; add rate-cpu "$s" "$(kv srv_cpu_pct "$l")"
			add rate-lat "$s" "$(kv lat_ms "$l")"; add rate-qps "$s" "$(kv qps "$l")"
			check_line "$l"
		done
	fi
	for s in "${order[@]}"; do
		mem_line "$s" >"$DDIR/mem-$s.txt"
		echo "after server=$s $(tail -n1 "$DDIR/mem-$s.txt")"
		stop_server "$s"
	done
	# this round's ratios
	r=""
	for p in nsd knot; do
		[ -n "${V["qps-nmrc.org $p"]:-}" ] && [ -n "${V["qps-nmrc.org talon"]:-}" ] || continue
		for z in "${ZONES[@]}"; do
			ta=$(last_of "qps-$z" talon); tb=$(last_of "qps-$z" "$p")
			q=$(div "$ta" "$tb" %.3f); add "ratio-$z" "$p" "$q"; r+=" talon/$p($z)=$q"
		done
		q=$(div "$(last_of pss talon)" "$(last_of pss "$p")" %.3f); add ratio-pss "$p" "$q"; r+=" pss_talon/$p=$q"
		q=$(div "$(last_of dpss talon)" "$(last_of pss "$p")" %.3f); add ratio-dpss "$p" "$q"; r+=" dns_pss_talon/$p=$q"
		if [ "$RATE" -gt 0 ]; then
			q=$(div "$(last_of rate-us talon)" "$(last_of rate-us "$p")" %.3f); add ratio-us "$p" "$q"
			r+=" cpu_per_q_at_rate_talon/$p=$q"
		fi
	done
	[ -n "$r" ] && echo "ratios round=$run$r"
done

echo
echo "== medians over $RUNS round(s): ${DURATION}s dnsperf runs ($DNSPERF_OPTS), servers on CPU $SRV_CPU, dnsperf on CPU $CLI_CPU =="
row() {  # LABEL KEY [SERVERS...]
	local label=$1 key=$2 s out
	out=$(printf '%-40s' "$label")
	for s in "${SL[@]}"; do out+=$(printf ' %12s' "$(med "$key" "$s")"); done
	echo "$out"
}
hdr=$(printf '%-40s' "")
for s in "${SL[@]}"; do hdr+=$(printf ' %12s' "$s"); done
echo "$hdr"
row "nmrc.org queries/s" qps-nmrc.org
row "bench.test (100k) queries/s" qps-bench.test
row "nmrc.org lost (%)" lost-nmrc.org
row "bench.test lost (%)" lost-bench.test
row "nmrc.org avg latency (ms)" lat-nmrc.org
row "bench.test avg latency (ms)" lat-bench.test
row "server CPU, nmrc.org (% of one)" scpu-nmrc.org
row "server CPU, bench.test (% of one)" scpu-bench.test
row "dnsperf CPU, bench.test (% of one)" ccpu-bench.test
row "CPU $SRV_CPU busy, bench.test (%, all processes)" sbusy-bench.test
row "server CPU per query, nmrc.org (us)" us-nmrc.org
row "server CPU per query, bench.test (us)" us-bench.test
if [ "$RATE" -gt 0 ]; then
	row "at $RATE q/s, bench.test: queries/s" rate-qps
	row "at $RATE q/s: server CPU (% of one)" rate-cpu
	row "at $RATE q/s: server CPU per query (us)" rate-us
	row "at $RATE q/s: avg latency (ms)" rate-lat
fi
row "100k zone load (s, first right answer)" load
row "RSS, whole tree (KB)" rss
row "Pss, whole tree (KB)" pss
if [[ " $SERVERS " == *" talon "* ]]; then
	printf '%-40s %12s\n' "talon zones logged (s, dns event=zones)" "$(med log talon)" \
		"talon dns process alone: RSS (KB)" "$(med drss talon)" \
		"talon dns process alone: Pss (KB)" "$(med dpss talon)"
	for p in nsd knot; do
		[[ " $SERVERS " == *" $p "* ]] || continue
		printf '%-40s %12s\n' \
			"talon/$p queries/s, nmrc.org" "$(med ratio-nmrc.org "$p")" \
			"talon/$p queries/s, bench.test" "$(med ratio-bench.test "$p")" \
			"talon/$p Pss (whole trees)" "$(med ratio-pss "$p")" \
			"talon dns process/$p Pss" "$(med ratio-dpss "$p")"
		[ "$RATE" -gt 0 ] && printf '%-40s %12s\n' "talon/$p CPU per query at $RATE q/s" "$(med ratio-us "$p")"
	done
fi
if [ "$N_CLIENT" -gt 0 ]; then
	echo "NOTE: $N_CLIENT of $N_MAX flat-out dnsperf runs were bound by dnsperf's own CPU (bound=client):" \
		"their queries/s is the client's ceiling, not the server's; compare the CPU per query instead."
fi
if [ "$N_SHARED" -gt 0 ]; then
	echo "NOTE: in $N_SHARED of $N_MAX flat-out dnsperf runs other processes took 25% or more of a CPU" \
		"(bound=shared): queries/s there says how much CPU they left; the CPU per query holds better."
fi
echo "(targets: talon >= 1.2 x NSD's queries/s; talon memory <= Knot's for the 100k zone." \
	"Other work on this 2-core machine moves the absolute figures: read the ratios.)"
