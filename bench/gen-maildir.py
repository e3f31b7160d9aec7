#!/usr/bin/python3
"""bench/gen-maildir.py - the Maildir of bench/imap.sh: N messages written
into MAILDIR/new/ as talon's deliver process leaves them, generated
deterministically (the same N and seed give the same bytes and names).

    gen-maildir.py MAILDIR --count N [--seed S] [--word WORD] [--host NAME]

Each message is 2-20 KiB (uniform), with LF line ends as deliver stores
them, and starts with the two envelope fields deliver writes
(Return-Path, Delivered-To).  Then realistic headers: two Received, an
Authentication-Results, a folded DKIM-Signature on most, From/To/Cc,
a Subject (some RFC 2047 encoded words, Re:/Fwd:), Date, Message-ID,
In-Reply-To/References on replies, List-Id on list mail.  Shapes:
about 60% text/plain (some quoted-printable with UTF-8), 25%
multipart/alternative (text and HTML), 15% multipart/mixed with a base64
attachment.

The file name is the one deliver gives (store/maildir.c):
TIME.QQIDIIDX.HOST,S=SIZE,W=VSIZE, where SIZE is the file's size and
VSIZE its size with CRLF line ends (what IMAP shows); QID is made as
spool_new_qid makes it (11 base32 digits of microseconds, 2 of a
counter) and IDX is 0.  The times increase with the message number, and
each file's mtime (INTERNALDATE) is its TIME.

WORD appears in the plain-text part of exactly the messages whose number
i (0-based) has i % 100 == 42: 1% of them, never split by a line break or
an encoding.  It is made of no vocabulary word, so SEARCH TEXT WORD must
find exactly those.

Prints one line on stdout:
    gen messages=N bytes=B vbytes=V plain=K alternative=K mixed=K word=WORD word_hits=H
"""
import argparse
import os
import random
import sys

B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE_TIME = 1767225600          # 2026-01-01T00:00:00Z; one message about a minute apart
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

WORDS = (
    "the of and to in is that for it as was with be by on not he this are or his from at "
    "which but have an they you were her she there been one all we their has would when "
    "if so no will more what up out can about them into some could than other time only "
    "new these two may first then do any like my now over such our man me even most made "
    "after also did many before must through back years where much your way well down "
    "should because each just those people how too little state good very make world still "
    "own see men work long get here between both life being under never day same another "
    "know while last might us great old year off come since against go came right used take "
    "three meeting report budget invoice schedule release server mailbox backup quarter "
    "deadline review draft agenda minutes project customer delivery shipment contract "
    "password update security network storage cluster kernel patch branch commit merge "
    "ticket support weekend holiday lunch coffee conference travel hotel flight train").split()
FIRST = ("Anna Bernd Carla David Emma Felix Greta Hanna Ivan Julia Karl Lena Marco Nina "
         "Oskar Paula Quentin Rosa Stefan Tanja Uwe Vera Walter Xenia Yusuf Zoe").split()
LAST = ("Meier Schmidt Novak Rossi Dubois Garcia Jensen Kowalski Larsen Moreau Olsen "
        "Petrov Quist Richter Svensson Tanaka Urban Varga Weber Young Zimmer").split()
DOMAINS = ("example.net example.org example.com mail.example.net lists.example.org "
           "corp.example.com news.example.net shop.example.com").split()
UTF8_PHRASES = ["Grüße aus Zürich", "Über die Änderung", "Réunion à Genève",
                "Ça marche très bien", "Smørrebrød på fredag", "Zażółć gęślą jaźń",
                "Fußball am Sonntag"]


def qid(us, ctr):
    """What spool_new_qid makes of a time in microseconds and a counter."""
    out = []
    for _ in range(11):
        out.append(B32[us & 31])
        us >>= 5
    return "".join(reversed(out)) + B32[(ctr >> 5) & 31] + B32[ctr & 31]


def rfc5322_date(t, tz_min):
    lt = t + tz_min * 60
    days, secs = divmod(lt, 86400)
    # 1970-01-01 was a Thursday; civil date from days (H. Hinnant's algorithm)
    wd = DAYS[(days + 3) % 7]
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (1 if m <= 2 else 0)
    sign = "+" if tz_min >= 0 else "-"
    tz = abs(tz_min)
    return "%s, %d %s %d %02d:%02d:%02d %s%02d%02d" % (
        wd, d, MONTHS[m - 1], y, secs // 3600, secs // 60 % 60, secs % 60, sign, tz // 60, tz % 60)


def words(r, n):
    return " ".join(r.choice(WORDS) for _ in range(n))


def text_lines(r, budget, width=72):
    """Paragraphs of vocabulary words, lines at most `width` long, about
    `budget` bytes in all (LF ends)."""
    lines, size = [], 0
    while size < budget:
        n = r.randint(3, 8)
        for _ in range(n):
            ln = []
            ll = 0
            while True:
                w = r.choice(WORDS)
                if ll + len(w) + 1 > width:
                    break
                ln.append(w)
                ll += len(w) + 1
            s = " ".join(ln)
            lines.append(s)
            size += len(s) + 1
            if size >= budget:
                break
        lines.append("")
        size += 1
    return lines


def qp_utf8(s):
    """Quoted-printable of a short UTF-8 phrase (no line of its own is
    longer than 76 characters)."""
    out = []
    for b in s.encode("utf-8"):
        if b == 0x3D or b > 126:
            out.append("=%02X" % b)
        else:
            out.append(chr(b))
    return "".join(out)


def b64_lines(data):
    import base64
    s = base64.b64encode(data).decode()
    return [s[i:i + 76] for i in range(0, len(s), 76)]


def person(r):
    f, l = r.choice(FIRST), r.choice(LAST)
    return '"%s %s" <%s.%s@%s>' % (f, l, f.lower(), l.lower(), r.choice(DOMAINS)), \
        "%s.%s@%s" % (f.lower(), l.lower(), r.choice(DOMAINS))


def subject(r, i, msgids):
    s = words(r, r.randint(2, 9)).capitalize()
    k = r.random()
    if k < 0.12:
        # an RFC 2047 encoded word (B or Q)
        phrase = r.choice(UTF8_PHRASES)
        if r.random() < 0.5:
            import base64
            s = "=?UTF-8?B?%s?= %s" % (base64.b64encode(phrase.encode()).decode(), words(r, 2))
        else:
            s = "=?UTF-8?Q?%s?= %s" % (qp_utf8(phrase).replace(" ", "_"), words(r, 2))
    if msgids and k > 0.7:
        s = ("Re: " if k < 0.92 else "Fwd: ") + s
    return s


def fold(name, value, width=76):
    """A header field folded at spaces (value has no LF)."""
    out, line = [], name + ": "
    for tok in value.split(" "):
        if len(line) + len(tok) + 1 > width and line.strip():
            out.append(line.rstrip())
            line = "\t"
        line += tok + " "
    out.append(line.rstrip())
    return out


def make_message(i, seed, host, user, word, msgids, shrink=0):
    """Message i: (file name, bytes, time, shape, has WORD, Message-ID), or
    None when it came out over 20 KiB (the caller asks again with a
    larger `shrink`: the same message, less text)."""
    r = random.Random("%d:%d" % (seed, i))
    t = BASE_TIME + i * 60 + r.randint(0, 50)
    target = r.randint(2048, 20480) - shrink
    tz = r.choice([0, 60, 120, -300, -420, 330, 540])
    _, sender = person(r)
    from_hdr, _ = person(r)
    dom = r.choice(DOMAINS)
    mid = "%016x.%d@%s" % (r.getrandbits(64), i, dom)
    hdr = ["Return-Path: <%s>" % sender, "Delivered-To: %s@%s" % (user, host)]
    q = qid(t * 1000000 + i, i & 1023)
    hdr.append("Received: from mx%d.%s (mx%d.%s [192.0.2.%d])"
               % (i % 7, dom, i % 7, dom, i % 250 + 1))
    hdr.append("\tby %s (Talon) with ESMTPS id %s" % (host, q))
    hdr.append("\tfor <%s@%s>; %s" % (user, host, rfc5322_date(t, 0)))
    hdr.append("Received: from [198.51.100.%d] (helo=%s)" % (i % 200 + 1, dom))
    hdr.append("\tby mx%d.%s with esmtpsa; %s" % (i % 7, dom, rfc5322_date(t - 2, tz)))
    hdr.append("Authentication-Results: %s; spf=pass smtp.mailfrom=%s;" % (host, dom))
    hdr.append("\tdkim=pass header.d=%s header.s=s%d; dmarc=pass header.from=%s"
               % (dom, i % 3, dom))
    if r.random() < 0.8:
        import base64
        b = base64.b64encode(r.getrandbits(2048).to_bytes(256, "big")).decode()
        bh = base64.b64encode(r.getrandbits(256).to_bytes(32, "big")).decode()
        hdr += fold("DKIM-Signature", "v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=s%d; "
                    "t=%d; h=from:to:subject:date:message-id:mime-version; bh=%s; b=%s"
                    % (dom, i % 3, t - 3, bh, " ".join(b[k:k + 60] for k in range(0, len(b), 60))))
    hdr.append("From: %s" % from_hdr)
    hdr.append("To: Bench User <%s@%s>" % (user, host))
    if r.random() < 0.3:
        hdr += fold("Cc", ", ".join(person(r)[0] for _ in range(r.randint(1, 3))))
    subj = subject(r, i, msgids)
    hdr.append("Subject: %s" % subj)
    hdr.append("Date: %s" % rfc5322_date(t - 2, tz))
    hdr.append("Message-ID: <%s>" % mid)
    if subj.startswith("Re: ") and msgids:
        parent = msgids[r.randrange(max(0, len(msgids) - 50), len(msgids))]
        hdr.append("In-Reply-To: <%s>" % parent)
        hdr += fold("References", "<%s>" % parent)
    if r.random() < 0.2:
        hdr.append("List-Id: Team discussion <team.%s>" % dom)
        hdr.append("List-Unsubscribe: <mailto:team-leave@%s>" % dom)
    if r.random() < 0.4:
        hdr.append("X-Mailer: %s" % r.choice(["Mutt 2.2.9", "Thunderbird 115.5",
                                               "Apple Mail (2.3731)", "Microsoft Outlook 16.0"]))
    hdr.append("MIME-Version: 1.0")

    head_size = sum(len(h) + 1 for h in hdr) + 1
    budget = max(200, target - head_size)
    has_word = (i % 100 == 42)
    k = r.random()
    shape = "plain" if k < 0.60 else "alternative" if k < 0.85 else "mixed"
    boundary = "=_b%016x" % r.getrandbits(64)

    def plain_part(budget, qp):
        lines = text_lines(r, budget)
        if has_word:
            # on a line of its own: never split by a soft line break
            lines.insert(min(3, len(lines)), "see also %s for the details" % word)
        if qp:
            lines.insert(1, qp_utf8(r.choice(UTF8_PHRASES)))
        return lines

    body = []
    if shape == "plain":
        qp = r.random() < 0.3
        hdr.append("Content-Type: text/plain; charset=%s" % ("utf-8" if qp else "us-ascii"))
        hdr.append("Content-Transfer-Encoding: %s" % ("quoted-printable" if qp else "7bit"))
        body = plain_part(budget, qp)
    elif shape == "alternative":
        hdr.append('Content-Type: multipart/alternative; boundary="%s"' % boundary)
        half = budget // 3
        body = ["This is a multi-part message in MIME format.", "", "--" + boundary,
                "Content-Type: text/plain; charset=us-ascii", "Content-Transfer-Encoding: 7bit", ""]
        body += plain_part(half, False)
        body += ["--" + boundary, "Content-Type: text/html; charset=us-ascii",
                 "Content-Transfer-Encoding: 7bit", "", "<html><body>"]
        body += ["<p>%s</p>" % ln for ln in text_lines(r, budget - half - 400) if ln]
        body += ["</body></html>", "--" + boundary + "--", ""]
    else:
        hdr.append('Content-Type: multipart/mixed; boundary="%s"' % boundary)
        att = max(300, (budget - 600) * r.randint(40, 70) // 100 * 3 // 4)
        body = ["This is a multi-part message in MIME format.", "", "--" + boundary,
                "Content-Type: text/plain; charset=us-ascii", "Content-Transfer-Encoding: 7bit", ""]
        body += plain_part(max(100, budget - 600 - att * 4 // 3), False)
        kind = r.choice([("application/pdf", "report.pdf"), ("image/png", "chart.png"),
                         ("application/zip", "logs.zip")])
        body += ["--" + boundary, 'Content-Type: %s; name="%s"' % kind,
                 "Content-Transfer-Encoding: base64",
                 'Content-Disposition: attachment; filename="%s"' % kind[1], ""]
        body += b64_lines(r.getrandbits(att * 8).to_bytes(att, "big"))
        body += ["--" + boundary + "--", ""]
    text = "\n".join(hdr) + "\n\n" + "\n".join(body) + "\n"
    # the 2-20 KiB promise: pad with words (after a multipart's end: its
    # epilogue), or let the caller shrink the text
    while len(text) < 2048:
        text += words(r, 8) + "\n"
    data = text.encode("utf-8")
    if len(data) > 20480:
        return None
    assert len(data) >= 2048, (i, len(data))
    lfs = data.count(b"\n")
    name = "%d.Q%sI0.%s,S=%d,W=%d" % (t, q, host, len(data), len(data) + lfs)
    return name, data, t, shape, has_word, mid


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("maildir")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--word", default="quokkaberry")
    ap.add_argument("--host", default="bench.test")
    ap.add_argument("--user", default="bench")
    a = ap.parse_args()
    if not 1 <= a.count <= 1000000:
        sys.exit("gen-maildir: --count must be 1..1000000")
    # text is vocabulary words between spaces: WORD can only turn up
    # where it is not meant to inside one of them (or a name)
    vocab = WORDS + [w.lower() for w in FIRST + LAST + DOMAINS]
    if not a.word.isalpha() or any(a.word.lower() in w for w in vocab):
        sys.exit("gen-maildir: --word must be letters and not within a vocabulary word")
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(a.maildir, sub), mode=0o700, exist_ok=True)
    new = os.path.join(a.maildir, "new")
    if os.listdir(new) or os.listdir(os.path.join(a.maildir, "cur")):
        sys.exit("gen-maildir: %s is not empty" % a.maildir)
    tot = vtot = hits = 0
    shapes = {"plain": 0, "alternative": 0, "mixed": 0}
    msgids = []
    for i in range(a.count):
        m = None
        for shrink in range(0, 20480, 512):     # bounded: at -20 KiB of text it fits
            m = make_message(i, a.seed, a.host, a.user, a.word, msgids, shrink)
            if m is not None:
                break
        if m is None:
            sys.exit("gen-maildir: message %d does not fit in 20 KiB" % i)
        name, data, t, shape, has_word, mid = m
        msgids.append(mid)
        path = os.path.join(new, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.utime(path, (t, t))
        tot += len(data)
        vtot += len(data) + data.count(b"\n")
        hits += has_word
        shapes[shape] += 1
    print("gen messages=%d bytes=%d vbytes=%d plain=%d alternative=%d mixed=%d word=%s word_hits=%d"
          % (a.count, tot, vtot, shapes["plain"], shapes["alternative"], shapes["mixed"], a.word,
             hits))


if __name__ == "__main__":
    main()
