#!/usr/bin/env python3
"""METADATA (RFC 5464) through Python's imaplib, for
TestImaplibMetadataDovecot and TestImaplibMetadataCyrus.

usage: metadata.py HOST PORT USER PASSWORD MAILBOX PREFIX

imaplib has no method for METADATA: the commands go through its
documented escape hatch (Commands, _simple_command, _untagged_response).
It sets PREFIX/py (a quoted value), then reads every entry under PREFIX
with DEPTH infinity, and prints JSON:
{"entries": {name: base64 value or null}}.
"""
import base64, imaplib, json, re, sys

host, port, user, password, mailbox, prefix = sys.argv[1:7]
for name in ('GETMETADATA', 'SETMETADATA'):
    imaplib.Commands.setdefault(name, ('AUTH', 'SELECTED'))
M = imaplib.IMAP4(host, int(port))
M.login(user, password)

def quote(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'

# imaplib sends a literal only as the last argument, where SETMETADATA's
# list must still be closed: its value goes quoted (ASCII, no CRLF), and
# the values with CRLF and 8-bit bytes are set by imapkit, read here.
typ, dat = M._simple_command('SETMETADATA', quote(mailbox), '(%s %s)' % (quote(prefix + '/py'), quote('set by "imaplib"')))
assert typ == 'OK', (typ, dat)

typ, dat = M._simple_command('GETMETADATA', '(DEPTH infinity)', quote(mailbox), '(%s)' % quote(prefix))
assert typ == 'OK', (typ, dat)
typ, dat = M._untagged_response(typ, dat, 'METADATA')

# Flatten imaplib's items (bytes, or (head, literal) tuples) into tokens.
tokens = []
tok_re = re.compile(rb'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|(\{\d+\}$)|([^\s()"]+))')
def lex(b, literal=None):
    pos = 0
    while pos < len(b):
        m = tok_re.match(b, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        if m.group(1):
            tokens.append('(')
        elif m.group(2):
            tokens.append(')')
        elif m.group(3) is not None:
            tokens.append(re.sub(rb'\\(.)', rb'\1', m.group(3)))
        elif m.group(4):
            tokens.append(literal)
        else:
            tokens.append(None if m.group(5).upper() == b'NIL' else m.group(5))
for item in dat:
    if item is None:
        continue
    if isinstance(item, tuple):
        lex(item[0], item[1])
    else:
        lex(item)

entries = {}
# mailbox ( name value name value ... ), possibly several responses
i = 0
while i < len(tokens):
    if tokens[i] == '(':
        i += 1
        while tokens[i] != ')':
            name, val = tokens[i].decode(), tokens[i + 1]
            entries[name] = None if val is None else base64.b64encode(val).decode()
            i += 2
    i += 1
M.logout()
json.dump({'entries': entries}, sys.stdout)
