#!/bin/sh
# `make demo`: install what is missing, build, write demo-data/ (self-signed
# certificate, config for demo.test with the user demo, the demo.test zone)
# on first run, and start `talon serve` in the foreground on 127.0.0.1:
#   2525  SMTP with STARTTLS        2465  SMTP with implicit TLS
#   2053  DNS (UDP and TCP), authoritative for demo.test
# Mail for demo@demo.test lands in demo-data/store/demo/Maildir/new/.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
make -s build/talon

D=demo-data
mkdir -p "$D"
if [ ! -f "$D/key.pem" ]; then
	echo "demo: generating a self-signed certificate for mail.demo.test"
	openssl req -x509 -newkey rsa:2048 -nodes -days 825 -sha256 \
		-subj "/CN=mail.demo.test" \
		-addext "subjectAltName=DNS:mail.demo.test,DNS:localhost,IP:127.0.0.1" \
		-keyout "$D/key.pem" -out "$D/cert.pem" 2>/dev/null
	chmod 600 "$D/key.pem"
fi
if [ ! -f "$D/talon.conf" ]; then
	cat > "$D/talon.conf" <<'CONF'
# Talon demo configuration (written by scripts/demo.sh; edit freely).
# Relative paths are relative to this file's directory.
hostname mail.demo.test
domain demo.test

listen smtp 127.0.0.1:2525 tls starttls
# the future submissions port: until submission exists it takes local mail
listen smtp 127.0.0.1:2465 tls implicit

tls-cert cert.pem
tls-key  key.pem

store   store
spool   spool
state   state
users   users
aliases aliases

workers 2
limit message-size 25m
limit recipients 100
limit connections 200
limit connections-per-ip 20
CONF
fi
# the DNS server and its zone (added to a config from before it existed)
if ! grep -q '^listen dns' "$D/talon.conf"; then
	cat >> "$D/talon.conf" <<'CONF'

# authoritative DNS for demo.test (edit the zone, then `talon reload`)
listen dns 127.0.0.1:2053
zone demo.test zones/demo.test.zone
CONF
fi
# the resolver of the mail checks (SPF, DKIM, DMARC, client names) asks
# only the demo's own DNS server; its root zone says "no such name" for
# everything outside demo.test, so nothing leaves this machine
if ! grep -q '^resolver' "$D/talon.conf"; then
	cat >> "$D/talon.conf" <<'CONF'

# mail authentication: the checks resolve through the demo's DNS server only
resolver forward 127.0.0.1@2053
zone . zones/root.zone
CONF
fi
mkdir -p "$D/zones"
if [ ! -f "$D/zones/root.zone" ]; then
	cat > "$D/zones/root.zone" <<'ZONE'
; The demo's root zone (written by scripts/demo.sh): the demo's resolver
; forwards every question to 127.0.0.1:2053, and this zone answers "no such
; name" for every name outside demo.test.  A real server uses `resolver
; recursive` or `resolver system` instead.
$ORIGIN .
$TTL 3600
@       IN SOA  ns1.demo.test. hostmaster.demo.test. 2026120101 7200 3600 1209600 300
        IN NS   ns1.demo.test.
1.0.0.127.in-addr.arpa. IN PTR mail.demo.test.
ZONE
fi
if [ ! -f "$D/zones/demo.test.zone" ]; then
	cat > "$D/zones/demo.test.zone" <<'ZONE'
; demo.test, served by talon on 127.0.0.1:2053 (written by scripts/demo.sh).
; Change a record, raise the serial, run `build/talon -c demo-data/talon.conf
; reload`, and ask again:  dig @127.0.0.1 -p 2053 demo.test MX
$ORIGIN demo.test.
$TTL 3600
@       IN SOA  ns1.demo.test. hostmaster.demo.test. (
                2026120101 ; serial (YYYYMMDDnn)
                7200       ; refresh
                3600       ; retry
                1209600    ; expire
                3600 )     ; negative answers are cached this long
        IN NS   ns1.demo.test.
        IN NS   ns2.demo.test.
        IN MX   10 mail.demo.test.
        IN A    127.0.0.1
ns1     IN A    127.0.0.1
ns2     IN A    127.0.0.1
mail    IN A    127.0.0.1
; mail authentication: who may send for demo.test, and what to do if not
@       IN TXT  "v=spf1 mx -all"
_dmarc  IN TXT  "v=DMARC1; p=quarantine; rua=mailto:postmaster@demo.test"
ZONE
fi
if [ ! -f "$D/users" ]; then
	cat > "$D/users" <<'USERS'
# user:{SCHEME}hash - set passwords with: build/talon -c demo-data/talon.conf user passwd NAME
demo:
USERS
fi
if [ ! -f "$D/aliases" ]; then
	cat > "$D/aliases" <<'ALIASES'
# aliases(5): name: target, target
postmaster: demo
abuse: demo
hostmaster: demo
ALIASES
fi

# the access map (sendmail's access file format), reloaded when it changes
if ! grep -q '^access' "$D/talon.conf"; then
	cat >> "$D/talon.conf" <<'CONF'

# sendmail-style access map: edit it, it is in force within 2 s
access access
CONF
fi
if [ ! -f "$D/access" ]; then
	cat > "$D/access" <<'ACCESS'
# The demo's access map: sendmail's access file format, read as it is (no
# makemap).  [Tag:]key <blanks> action; tags Connect:, From:, To:, Spam:.
# Saved changes are in force within 2 seconds.  Try:
#   build/talon -c demo-data/talon.conf access test spammer@junk.example
#   build/talon -c demo-data/talon.conf access test 127.0.0.66
# and send from them with swaks (see README.md, "Bring your sendmail
# access file").
junk.example            550 5.7.1 we do not take mail from junk.example
From:friend@junk.example OK
Connect:127.0.0.66      REJECT
To:gone@demo.test       550 5.1.1 gone has left, write to demo@demo.test
ACCESS
fi

# the seed's inbound defences (README.md "Inbound defences"); greylisting
# stays off so that a new user's first message arrives at once
if ! grep -q '^pipelining-check' "$D/talon.conf"; then
	cat >> "$D/talon.conf" <<'CONF'

# inbound defences, as the seed runs them (README.md "Inbound defences"):
# wait a second before the banner (talking first is 554), refuse commands
# pipelined without PIPELINING, and a DNS blocklist served by the demo's
# own DNS server (zones/bl.test.zone lists 127.0.0.99 only)
limit greet-pause 1000
pipelining-check on
zone bl.test zones/bl.test.zone
dnsbl bl.test text Mail from $&{client_addr} refused - see the demo list bl.test
# greylisting is off, so that your first message arrives at once; try it:
#   greylist on
#   limit greylist-delay 60
# and ban clients that misbehave (talon ban list|add|del):
#   auto-ban on
#   mynetworks 127.0.0.1
CONF
fi
if [ ! -f "$D/zones/bl.test.zone" ]; then
	cat > "$D/zones/bl.test.zone" <<'ZONE'
; The demo's DNS blocklist (written by scripts/demo.sh): a client address
; a.b.c.d is listed when d.c.b.a.bl.test has an A record in 127.0.0.0/8.
; Listed: 127.0.0.99.  Try:
;   swaks --server 127.0.0.1:2525 --local-interface 127.0.0.99 --to demo@demo.test
$ORIGIN bl.test.
$TTL 300
@       IN SOA  ns1.demo.test. hostmaster.demo.test. 2026120101 7200 3600 1209600 300
        IN NS   ns1.demo.test.
99.0.0.127  IN A    127.0.0.2
99.0.0.127  IN TXT  "listed in the Talon demo"
ZONE
fi

# IMAP (first stage: the login), on loopback only; the demo account's
# password is "demo" (README.md "Reading mail over IMAP")
if ! grep -q '^listen imap' "$D/talon.conf"; then
	cat >> "$D/talon.conf" <<'CONF'

# IMAP: login over STARTTLS and implicit TLS (mailboxes come next)
listen imap 127.0.0.1:2143 tls starttls
listen imap 127.0.0.1:2993 tls implicit
CONF
fi
if grep -q '^demo:$' "$D/users"; then
	echo demo | build/talon -c "$D/talon.conf" user passwd demo >/dev/null
fi

# DKIM: a key pair for the selector "default" (RSA) and "default-ed"
# (Ed25519), published in the zone
if [ ! -d "$D/dkim" ]; then
	mkdir -p "$D/dkim"
	chmod 700 "$D/dkim"
	build/talon dkim keygen demo.test default --dir "$D/dkim" > "$D/dkim/records.txt"
	{
		echo "; DKIM public keys (talon dkim keygen demo.test default)"
		grep -v '^;' "$D/dkim/records.txt"
	} >> "$D/zones/demo.test.zone"
fi

build/talon -c "$D/talon.conf" config check
echo "demo: starting talon on 127.0.0.1:2525 (STARTTLS), 127.0.0.1:2465 (TLS), IMAP on 2143 (STARTTLS) and 2993 (TLS), DNS on 127.0.0.1:2053; ^C stops it"
echo "demo: try  swaks --server 127.0.0.1:2525 --tls --to demo@demo.test --from you@example.org"
echo "demo: and  dig @127.0.0.1 -p 2053 demo.test MX"
echo "demo: and  build/talon zone check demo-data/zones/demo.test.zone"
echo "demo: and  build/talon -c demo-data/talon.conf spf 127.0.0.1 demo@demo.test"
echo "demo: (see README.md, \"Mail authentication\", for DKIM signing and talon dmarc)"
echo "demo: the banner comes after 1 s (greet pause); 127.0.0.99 is on the demo blocklist:"
echo "demo:      swaks --server 127.0.0.1:2525 --local-interface 127.0.0.99 --to demo@demo.test"
exec build/talon -c "$D/talon.conf" serve
