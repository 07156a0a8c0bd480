#!/usr/bin/env python3
"""Runs the operations of TestImaplibDifferential through Python's imaplib
and prints what imaplib returns as JSON, for the Go test to compare with
imapkit's typed results on the same mailbox of the same server.

usage: diff.py HOST PORT USER PASSWORD MAILBOX LISTPATTERN [OPTIONS]

Options (each may repeat; mailbox names in modified UTF-7):
  --search-utf8 KEY VALUE   SEARCH CHARSET UTF-8 KEY VALUE in MAILBOX (the
                            value sent as a literal: imaplib sends str
                            arguments as ASCII)
  --partial SEQ SECTION START LENGTH
                            FETCH SEQ (BODY.PEEK[SECTION]<START.LENGTH>) in
                            MAILBOX, and imaplib's partial() once
  --append MB DATE          append standard input (bytes as they are: imaplib
                            turns bare CR and LF into CRLF) to MB with the
                            flag \Flagged and DATE (ISO 8601 with an offset,
                            through Time2Internaldate), then fetch MB's
                            messages back
  --expunge MB SEQS         STORE SEQS +FLAGS (\Deleted) in MB, EXPUNGE, and
                            FETCH 1:* (UID) after it

Strings imaplib returns as bytes are decoded as Latin-1, so that every byte
survives; bodies are base64. Mailbox names stay as the server sent them
(imaplib does not decode modified UTF-7); "decoded" is the name decoded here
by RFC 3501 section 5.1.3, independently of imapkit's codec.
"""
import base64, calendar, datetime, imaplib, json, re, sys, time

host, port, user, password, mailbox, pattern = sys.argv[1:7]
opts = {}
rest = sys.argv[7:]
nargs = {'--search-utf8': 2, '--partial': 4, '--append': 2, '--expunge': 2}
while rest:
    n = nargs[rest[0]]
    opts.setdefault(rest[0], []).append(rest[1:1 + n])
    rest = rest[1 + n:]
M = imaplib.IMAP4(host, int(port))
M.login(user, password)
out = {}

def quote(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'

def mutf7_decode(b):
    """Modified UTF-7 (RFC 3501 section 5.1.3) to str."""
    out = []
    for i, part in enumerate(re.split(rb'&([^-]*)-', b)):
        if i % 2 == 0:
            out.append(part.decode('ascii'))
        elif not part:
            out.append('&')
        else:
            b64 = part.replace(b',', b'/')
            out.append(base64.b64decode(b64 + b'=' * (-len(b64) % 4)).decode('utf-16-be'))
    return ''.join(out)

def fetch_value(data):
    """The value of a FETCH response with one item: a literal, a quoted
    string or NIL (imaplib gives a (head, literal) tuple for a literal and
    the bytes of the line otherwise)."""
    item = data[0]
    if isinstance(item, tuple):
        return item[1]
    m = re.search(rb' ("(?:[^"\\]|\\.)*"|NIL)\)$', item)
    return None if m.group(1) == b'NIL' else re.sub(rb'\\(.)', rb'\1', m.group(1)[1:-1])

typ, data = M.select(quote(mailbox))
assert typ == 'OK', (typ, data)
out['exists'] = int(data[0])

typ, data = M.search(None, 'ALL')
out['search'] = [int(n) for n in data[0].split()]
typ, data = M.uid('SEARCH', 'UNSEEN')
out['uid_search_unseen'] = [int(n) for n in data[0].split()]

searches = []
for key, value in opts.get('--search-utf8', []):
    M.literal = value.encode('utf-8')
    typ, data = M.search('UTF-8', key)
    assert typ == 'OK', (typ, data)
    searches.append([int(n) for n in data[0].split()])
out['search_utf8'] = searches

partials = []
for seq, section, start, length in opts.get('--partial', []):
    typ, data = M.fetch(seq, '(BODY.PEEK[%s]<%s.%s>)' % (section, start, length))
    assert typ == 'OK', (typ, data)
    v = fetch_value(data)
    partials.append(None if v is None else base64.b64encode(v).decode())
out['partial'] = partials
if '--partial' in opts:
    # imaplib's own partial() sends PARTIAL, an IMAP2bis command that
    # RFC 2060 removed: record what it gets.
    seq, section, start, length = opts['--partial'][0]
    try:
        typ, data = M.partial(seq, 'BODY.PEEK[%s]' % section, start, length)
        out['partial_method'] = typ
    except imaplib.IMAP4.error as e:
        out['partial_method'] = 'error: %s' % e

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

for mb, date in opts.get('--append', []):
    msg = sys.stdin.buffer.read()
    typ, data = M.append(quote(mb), '\\Flagged', datetime.datetime.fromisoformat(date), msg)
    assert typ == 'OK', (typ, data)
    m = re.search(rb'\[APPENDUID \d+ (\d+)\]', data[0])
    typ, data = M.select(quote(mb))
    assert typ == 'OK', (typ, data)
    typ, data = M.fetch('1:*', '(UID INTERNALDATE FLAGS RFC822.SIZE BODY.PEEK[])')
    assert typ == 'OK', (typ, data)
    msgs = []
    for item in data:
        if not isinstance(item, tuple):
            continue
        head, body = item
        date = re.search(rb'INTERNALDATE "([^"]*)"', head).group(1).decode()
        tt = imaplib.Internaldate2tuple(head)  # local time: the zone is lost
        msgs.append({'uid': int(re.search(rb'UID (\d+)', head).group(1)),
                     'internaldate': date, 'epoch': int(time.mktime(tt)),
                     'size': int(re.search(rb'RFC822\.SIZE (\d+)', head).group(1)),
                     'flags': sorted(f.decode() for f in imaplib.ParseFlags(head)),
                     'body': base64.b64encode(body).decode()})
    out['append'] = {'appenduid': int(m.group(1)) if m else 0, 'messages': msgs}

for mb, seqs in opts.get('--expunge', []):
    typ, data = M.select(quote(mb))
    assert typ == 'OK', (typ, data)
    typ, data = M.store(seqs, '+FLAGS.SILENT', '(\\Deleted)')
    assert typ == 'OK', (typ, data)
    typ, data = M.expunge()
    assert typ == 'OK', (typ, data)
    expunged = [int(n) for n in data if n is not None]
    typ, data = M.fetch('1:*', '(UID)')
    assert typ == 'OK', (typ, data)
    uids = [[int(x) for x in re.match(rb'(\d+) \(UID (\d+)\)', d).groups()] for d in data]
    out['expunge'] = {'expunged': expunged, 'uids': uids}

if '--append' in opts or '--expunge' in opts:
    typ, data = M.unselect()
    assert typ == 'OK', (typ, data)

# LIST and STATUS after the operations above, as imapkit sees them.
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
    mboxes.append({'name': name.decode('latin-1'), 'decoded': mutf7_decode(name),
                   'delim': '' if delim == b'NIL' else delim[1:-1].decode(),
                   'attrs': sorted(a.decode() for a in m.group('attrs').split())})
mboxes.sort(key=lambda m: m['name'])
out['list'] = mboxes

def status(name):
    typ, data = M.status(quote(name), '(MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)')
    assert typ == 'OK', (typ, data)
    st = re.search(rb'\(([^()]*)\)$', data[0]).group(1).split()
    return {st[j].decode(): int(st[j + 1]) for j in range(0, len(st), 2)}
out['status'] = status(mailbox)
for m in mboxes:
    m['status'] = status(m['name'])

M.logout()
json.dump(out, sys.stdout)
