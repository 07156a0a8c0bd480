#!/usr/bin/env python3
"""getannotation and getquotaroot through Python's imaplib on Cyrus, for
TestCyrus's side-by-side check.

usage: annotation.py HOST PORT USER PASSWORD MAILBOX ENTRY ATTRIBUTE

Prints JSON: the entry, attribute and value of the first ANNOTATION
response, and the quota roots and STORAGE usage/limit of getquotaroot.
"""
import imaplib, json, re, sys

host, port, user, password, mailbox, entry, attr = sys.argv[1:8]
M = imaplib.IMAP4(host, int(port))
M.login(user, password)
typ, data = M.getannotation(mailbox, '"%s"' % entry, '"%s"' % attr)
assert typ == 'OK', (typ, data)
item = data[0]
if isinstance(item, tuple):  # a literal value
    head, value = item
    m = re.match(rb'(\S+|"[^"]*") "([^"]*)" \("([^"]*)" ', head)
    val = value.decode()
else:
    m = re.match(rb'(\S+|"[^"]*") "([^"]*)" \("([^"]*)" "([^"]*)"\)', item)
    val = m.group(4).decode()
out = {'entry': m.group(2).decode(), 'attr': m.group(3).decode(), 'value': val}
typ, data = M.getquotaroot(mailbox)
roots_line, quota_lines = data
q = re.search(rb'[( ]STORAGE (\d+) (\d+)[ )]', quota_lines[0])
out['storage'] = [int(q.group(1)), int(q.group(2))]
M.logout()
json.dump(out, sys.stdout)
