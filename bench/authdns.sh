# shellcheck shell=bash
# bench/authdns.sh - our own DNS server on loopback for the benches that
# make talon resolve (sourced after lib.sh, not run).  Bash only.
#
# A talon instance of its own with no smtp listener: `listen dns
# 127.0.0.1:PORT`, the zones given, `limit dns-responses 0` (no rate
# limit: one client, the resolver under test, asks everything).  The mail
# talon a bench measures gets `resolver forward 127.0.0.1@PORT` and never
# uses the system resolver: nothing leaves loopback.  Kept apart from the
# measured instance so that answering DNS is not counted as its work (a
# real server asks a resolver elsewhere).  It always runs the current
# build/talon, whatever TALON says (a TALON without `listen dns` would do).

AUTHDNS_PID=""
AUTHDNS_PORT=""

# root_zone FILE: the root zone ".", so that every name outside the bench
# zones gets a quick NXDOMAIN (negative TTL 60) instead of a timeout
root_zone() {
	cat >"$1" <<'ZONE'
$ORIGIN .
$TTL 3600
@ IN SOA ns.root-servers.test. hostmaster.root-servers.test. 1 3600 600 86400 60
  IN NS ns.root-servers.test.
ns.root-servers.test. IN A 127.0.0.1
ZONE
}

# authdns_conf DIR: the instance directory (emptied) with talon.conf and the
# root zone; the caller adds its zones with authdns_zone, then starts it
authdns_conf() {
	local dir=$1
	AUTHDNS_PORT=$(free_port)
	talon_write_conf "$dir" 0
	# no smtp listener: only the dns process is asked anything
	sed -i -e '/^listen smtp/d' -e 's/^workers .*/workers 1/' "$dir/talon.conf"
	cat >>"$dir/talon.conf" <<CONF
listen dns 127.0.0.1:$AUTHDNS_PORT
# one client asks everything: no response rate limit
limit dns-responses 0
zone . root.zone
CONF
	root_zone "$dir/root.zone"
}

# authdns_zone DIR ORIGIN FILE: serve ORIGIN from FILE (relative to DIR)
authdns_zone() { printf 'zone %s %s\n' "$2" "$3" >>"$1/talon.conf"; }

# authdns_start DIR PROBE_NAME: start it; wait (bounded, 60 s) until it
# gives 127.0.0.1 for PROBE_NAME (an A record the caller put in a zone)
authdns_start() {
	local dir=$1 probe=$2 bin="$REPO_DIR/build/talon" t0 res
	[ -x "$bin" ] || bin=$TALON
	chmod -R a+rX "$dir"
	t0=$(now)
	"$bin" -c "$dir/talon.conf" serve >"$dir/talon.log" 2>&1 &
	AUTHDNS_PID=$!
	res=$(timeout -k 5 70 /usr/bin/python3 "$BENCH_DIR/dns-probe.py" wait "$AUTHDNS_PORT" "$probe" \
		127.0.0.1 --t0 "$t0" --timeout 60 2>&1 | tail -n1)
	if [ "$(kv answer_s "$res")" = "" ] || [ "$(kv answer_s "$res")" = n/a ] ||
	    ! kill -0 "$AUTHDNS_PID" 2>/dev/null; then
		say "bench: our DNS server gave no answer for $probe in 60 s ($res); its log:"
		tail -n 15 "$dir/talon.log" >&2
		return 1
	fi
	say "bench: our DNS server answers on 127.0.0.1:$AUTHDNS_PORT (ready after $(kv answer_s "$res") s)"
	return 0
}

# authdns_stop: SIGTERM, a bounded wait (20 s), then SIGKILL to its tree
authdns_stop() {
	local i left
	[ -n "$AUTHDNS_PID" ] || return 0
	left=$(descendants "$AUTHDNS_PID")
	kill -TERM "$AUTHDNS_PID" 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		kill -0 "$AUTHDNS_PID" 2>/dev/null || break
		sleep 0.1
	done
	for i in $left; do kill -0 "$i" 2>/dev/null && kill -KILL "$i" 2>/dev/null; done
	wait "$AUTHDNS_PID" 2>/dev/null
	AUTHDNS_PID=""
}

# ensure_auth_users: every system user `talon serve` drops to (the
# resolver and the checks brought the policy and delivery roles)
ensure_auth_users() {
	local u
	for u in _talon _talonq _talonmail _talondns _talonpol; do ensure_user "$u"; done
}
