#!/usr/bin/env python3
"""Runs the operations of TestImaplibDifferential through Python's imaplib
and prints what imaplib returns as JSON, for the Go test to compare with
imapkit's typed results on the same mailbox of the same server.

usage: diff.py HOST PORT USER PASSWORD MAILBOX LISTPATTERN

Strings imaplib returns as bytes are decoded as Latin-1, so that every byte
survives; bodies are base64. Mailbox names stay as the server sent them
(imaplib does not decode modified UTF-7).
"""
import base64, imaplib, json, re, sys

host, port, user, password, mailbox, pattern = sys.argv[1:7]
M = imaplib.IMAP4(host, int(port))
M.login(user, password)
out = {}

def quote(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'

typ, data = M.select(quote(mailbox))
assert typ == 'OK', (typ, data)
out['exists'] = int(data[0])

typ, data = M.search(None, 'ALL')
out['search'] = [int(n) for n in data[0].split()]
typ, data = M.uid('SEARCH', 'UNSEEN')
out['uid_search_unseen'] = [int(n) for n in data[0].split()]

typ, data = M.fetch('1:*', '(UID FLAGS RFC822.SIZE BODY.PEEK[])')
assert typ == 'OK', typ
msgs = []
for item in data:
    if not isinstance(item, tuple):
        continue
    head, body = item
    seq = int(head.split()[0])
    uid = int(re.search(rb'UID (\d+)', head).group(1))
    size = int(re.search(rb'RFC822\.SIZE (\d+)', head).group(1))
    flags = [f.decode('latin-1') for f in imaplib.ParseFlags(head)]
    msgs.append({'seq': seq, 'uid': uid, 'size': size, 'flags': sorted(flags),
                 'body': base64.b64encode(body).decode()})
out['messages'] = msgs

typ, data = M.list('""', quote(pattern))
mboxes = []
list_re = re.compile(rb'\((?P<attrs>[^)]*)\) (?P<delim>"[^"]*"|NIL) (?P<name>.*)')
i = 0
while i < len(data):
    item = data[i]
    if isinstance(item, tuple):  # name sent as a literal
        m = list_re.match(item[0])
        name = item[1]
    else:
        m = list_re.match(item)
        name = m.group('name')
        if name.startswith(b'"'):
            name = re.sub(rb'\\(.)', rb'\1', name[1:-1])
    i += 1
    if isinstance(item, tuple) and i < len(data) and data[i] == b'':
        i += 1
    delim = m.group('delim')
    mboxes.append({'name': name.decode('latin-1'),
                   'delim': '' if delim == b'NIL' else delim[1:-1].decode(),
                   'attrs': sorted(a.decode() for a in m.group('attrs').split())})
out['list'] = sorted(mboxes, key=lambda m: m['name'])

typ, data = M.status(quote(mailbox), '(MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)')
st = re.search(rb'\((.*)\)', data[0]).group(1).split()
out['status'] = {st[j].decode(): int(st[j + 1]) for j in range(0, len(st), 2)}

M.logout()
json.dump(out, sys.stdout)
