#!/bin/bash
# bench/postfix-peer.sh - the same SMTP load as smtp-throughput.sh, against a
# private Postfix instance: the peer Talon is measured against.
#
# The instance lives entirely in bench/tmp/postfix/ (its own config_directory,
# queue_directory, data_directory, log file and Maildir store); it listens on
# 127.0.0.1:$PF_PORT only (default 12525, never 25) and never touches the
# system instance in /etc/postfix.  Delivery is Postfix's virtual(8) into
# Maildir (mail/bench/Maildir/new/, one file per message) as the system user
# `benchmail` (created if missing), with texthash: maps (no postmap step).
#
# Usage: bench/postfix-peer.sh            (as root)
# Env:   N=5000 SESSIONS=20 SIZE=2048 PF_PORT=12525 LOAD_TIMEOUT=600
#        DELIVER_TIMEOUT=300
# The load is bench/smtp_load.c (built into bench/tmp/ by lib.sh), as for
# talon: N messages of SIZE bytes, one per connection, SESSIONS connections
# in parallel, to bench@bench.test.
# Last line on stdout (key=value, for smtp-throughput.sh):
#   postfix messages=N accept_s=S accept_msgs_per_s=R delivered=N
#           delivered_s=S delivered_msgs_per_s=R cpu_s=C pss_kb_end=K
#           lat_p50_ms=L lat_p99_ms=L lat_max_ms=L load_ok=N load_failed=N
# accept_s: the load's wall time (every message got its 250);
# delivered_s: from the start of the load until N files are in Maildir/new;
# lat_*_ms: time from the write of each message's final ".\r\n" to the end
# of its 250 line, over the messages answered 250 (load_ok of them; failed
# ones are load_failed; see bench/tmp/postfix/load.log).
# Never run by CI.  Prints figures, asserts nothing.
set -u
. "$(dirname "$0")/lib.sh"

N=${N:-5000}
SESSIONS=${SESSIONS:-20}
SIZE=${SIZE:-2048}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-600}
DELIVER_TIMEOUT=${DELIVER_TIMEOUT:-300}
[[ "$N" =~ ^[0-9]+$ && "$N" -ge 1 && "$N" -le 200000 ]] || die "N must be 1..200000"

need_root
lock postfix-peer
ensure_postfix
ensure_user benchmail
build_load

PF="$BENCH_TMP/postfix"
ETC="$PF/etc"
SPOOL="$PF/spool"
MAIL="$PF/mail"
NEWDIR="$MAIL/bench/Maildir/new"
PFLOG="$PF/postfix.log"

pf_master_pid() {
	local p
	p=$(tr -dc 0-9 2>/dev/null <"$SPOOL/pid/master.pid") || return 1
	[ -n "$p" ] && [ -d "/proc/$p" ] && echo "$p"
}

pf_stop() {
	[ -f "$ETC/main.cf" ] || return 0
	local pid i
	pid=$(pf_master_pid) || return 0
	timeout 30 postfix -c "$ETC" stop >/dev/null 2>&1 || true
	for ((i = 0; i < 100; i++)); do
		[ -d "/proc/$pid" ] || return 0
		sleep 0.1
	done
	say "bench: Postfix master $pid still alive after 'postfix stop'; killing it"
	kill -KILL "$pid" 2>/dev/null || true
}

on_exit() {
	stop_load
	pf_stop
	cleanup_policy_rc
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# a run that was interrupted may have left its instance running
pf_stop

PF_PORT=$(free_port "${PF_PORT:-12525}")
[ "$PF_PORT" = 25 ] && die "refusing port 25"

rm -rf "$SPOOL" "$MAIL" "$PF/data" "$PFLOG"
mkdir -p "$ETC" "$SPOOL" "$PF/data" "$MAIL"
chmod 755 "$BENCH_TMP" "$PF" "$ETC" "$SPOOL" "$MAIL"
chown benchmail:benchmail "$MAIL"
chown postfix:postfix "$PF/data"
chmod 700 "$PF/data"
uid=$(id -u benchmail)
gid=$(id -g benchmail)

cat >"$ETC/main.cf" <<EOF
# private Postfix instance for bench/postfix-peer.sh; written anew each run
compatibility_level = 3.6
queue_directory = $SPOOL
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $PFLOG
maillog_file_prefixes = $PF
syslog_name = postfix-bench

myhostname = mx.bench.test
mydomain = bench.test
myorigin = bench.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains =
alias_maps =
alias_database =
local_recipient_maps =
smtp_dns_support_level = disabled
biff = no

virtual_mailbox_domains = bench.test
virtual_mailbox_base = $MAIL
virtual_mailbox_maps = texthash:$ETC/vmailbox
virtual_alias_maps = texthash:$ETC/valias
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
EOF

cat >"$ETC/vmailbox" <<'EOF'
bench@bench.test bench/Maildir/
EOF
cat >"$ETC/valias" <<'EOF'
postmaster@bench.test bench@bench.test
abuse@bench.test bench@bench.test
EOF

# Only a loopback high port for smtpd: no "smtp inet" line, so nothing on 25.
# chroot off everywhere (column 5), the Postfix default since 3.0.
cat >"$ETC/master.cf" <<EOF
# service        type  private unpriv chroot wakeup maxproc command
127.0.0.1:$PF_PORT inet n      -      n      -      -       smtpd
pickup           unix  n       -      n      60     1       pickup
cleanup          unix  n       -      n      -      0       cleanup
qmgr             unix  n       -      n      300    1       qmgr
tlsmgr           unix  -       -      n      1000?  1       tlsmgr
rewrite          unix  -       -      n      -      -       trivial-rewrite
bounce           unix  -       -      n      -      0       bounce
defer            unix  -       -      n      -      0       bounce
trace            unix  -       -      n      -      0       bounce
verify           unix  -       -      n      -      1       verify
flush            unix  n       -      n      1000?  0       flush
proxymap         unix  -       -      n      -      -       proxymap
proxywrite       unix  -       -      n      -      1       proxymap
smtp             unix  -       -      n      -      -       smtp
relay            unix  -       -      n      -      -       smtp
showq            unix  n       -      n      -      -       showq
error            unix  -       -      n      -      -       error
retry            unix  -       -      n      -      -       error
discard          unix  -       -      n      -      -       discard
local            unix  -       n      n      -      -       local
virtual          unix  -       n      n      -      -       virtual
lmtp             unix  -       -      n      -      -       lmtp
anvil            unix  -       -      n      -      1       anvil
scache           unix  -       -      n      -      1       scache
postlog          unix-dgram n  -      n      -      1       postlogd
EOF

# creates the queue subdirectories with Postfix's own ownership and modes
postfix -c "$ETC" check >"$PF/check.log" 2>&1 ||
	{ cat "$PF/check.log" >&2; die "postfix -c $ETC check failed"; }
postfix -c "$ETC" start >>"$PF/check.log" 2>&1 ||
	{ cat "$PF/check.log" >&2; tail -n 20 "$PFLOG" >&2 2>/dev/null; die "postfix -c $ETC start failed"; }
wait_port "$PF_PORT" 20 || { tail -n 20 "$PFLOG" >&2; die "Postfix does not listen on 127.0.0.1:$PF_PORT"; }
MASTER=$(pf_master_pid) || die "no Postfix master pid in $SPOOL/pid/master.pid"
if ss -Hltnp 'sport = :25' 2>/dev/null | grep -q "pid=$MASTER,"; then
	die "the private Postfix listens on port 25: refusing to go on"
fi
say "bench: private Postfix (master $MASTER) on 127.0.0.1:$PF_PORT, mail to $NEWDIR"

t0=$(now)
run_load "$PF_PORT" "$N" "$SESSIONS" "$SIZE" "$LOAD_TIMEOUT" "$PF/load.log"
accept_s=$(elapsed "$t0")
got=$(wait_files "$NEWDIR" "$N" "$DELIVER_TIMEOUT")
delivered_s=$(elapsed "$t0")
cpu=$(tree_cpu "$MASTER")
pss=$(tree_pss_kb "$MASTER")
[ "$got" -lt "$N" ] && say "bench: only $got of $N messages in $NEWDIR after ${DELIVER_TIMEOUT}s (see $PFLOG)"
pf_stop

echo "postfix messages=$N accept_s=$accept_s accept_msgs_per_s=$(div "$N" "$accept_s")" \
	"delivered=$got delivered_s=$delivered_s delivered_msgs_per_s=$(div "$got" "$delivered_s")" \
	"cpu_s=$cpu pss_kb_end=$pss $(load_keys)"
