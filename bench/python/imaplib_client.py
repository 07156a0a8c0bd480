#!/usr/bin/env python3
"""Python imaplib's contender in the end-to-end comparison (bench/cmd/compare).

Runs the meta or body job (see bench/internal/contender) with the standard
library's imaplib and prints one JSON line: the FETCH responses seen, the sum
of their UIDs, and the body bytes. imaplib collects the whole answer in
memory before it returns; that is what it is measured doing. The password
comes from the environment variable BENCH_PASS.
"""
import argparse
import imaplib
import json
import os
import re
import ssl
import sys

UID = re.compile(rb"^\d+ \(.*?\bUID (\d+)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-addr", required=True)
    ap.add_argument("-tls", action="store_true")
    ap.add_argument("-ca", default="")
    ap.add_argument("-user", required=True)
    ap.add_argument("-mailbox", default="INBOX")
    ap.add_argument("-job", default="meta")
    ap.add_argument("-timeout", default="")
    args = ap.parse_args()
    host, port = args.addr.rsplit(":", 1)
    if args.tls:
        ctx = ssl.create_default_context(cafile=args.ca)  # verification on
        ctx.check_hostname = True
        m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
    else:
        m = imaplib.IMAP4(host, int(port))
    m.login(args.user, os.environ["BENCH_PASS"])
    typ, _ = m.select(args.mailbox, readonly=True)
    if typ != "OK":
        sys.exit("EXAMINE failed")
    if args.job == "meta":
        items = "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)"
    elif args.job == "body":
        items = "(UID BODY.PEEK[])"
    else:
        sys.exit("job %r not supported" % args.job)
    typ, data = m.fetch("1:*", items)
    if typ != "OK":
        sys.exit("FETCH failed")
    messages = uid_sum = nbytes = 0
    for d in data:
        head = d[0] if isinstance(d, tuple) else d
        u = UID.match(head)
        if u:
            messages += 1
            uid_sum += int(u.group(1))
        if isinstance(d, tuple) and args.job == "body":
            nbytes += len(d[1])
    m.logout()
    print(json.dumps({"messages": messages, "uid_sum": uid_sum, "bytes": nbytes, "peak_rss_kib": vm_hwm()}))


def vm_hwm():
    """VmHWM, the peak resident set of this process, in KiB (getrusage's
    maxrss would carry the Go parent's peak over the exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


if __name__ == "__main__":
    main()
