#!/usr/bin/env python3
"""Quota and ACL through Python's imaplib, for TestImaplibQuotaACL.

usage: quota_acl.py HOST PORT USER PASSWORD MAILBOX [--list-myrights]

Prints JSON: the quota roots and resources of getquotaroot(MAILBOX), and
the entries of getacl(MAILBOX) and myrights(MAILBOX); with --list-myrights
also the MYRIGHTS of LIST "" MAILBOX RETURN (MYRIGHTS) (RFC 8440), which
imaplib has no method for: list() sends its arguments as written.
"""
import imaplib, json, re, sys

host, port, user, password, mailbox = sys.argv[1:6]
list_myrights = '--list-myrights' in sys.argv[6:]
M = imaplib.IMAP4(host, int(port))
M.login(user, password)
out = {}
typ, data = M.getquotaroot(mailbox)
assert typ == 'OK', (typ, data)
roots_line, quota_lines = data
# [b'"INBOX" "User quota"'], [b'"User quota" (STORAGE 0 20)']
out['roots'] = [r.strip('"') for r in re.findall(r'"[^"]*"|\S+', roots_line[0].decode())[1:]]
quotas = []
for q in quota_lines:
    m = re.match(r'("[^"]*"|\S+) \((.*)\)', q.decode())
    items = m.group(2).split()
    quotas.append({'root': m.group(1).strip('"'),
                   'resources': [{'name': items[i].upper(), 'usage': int(items[i + 1]), 'limit': int(items[i + 2])}
                                 for i in range(0, len(items), 3)]})
out['quotas'] = quotas
typ, data = M.getacl(mailbox)
assert typ == 'OK', (typ, data)
parts = re.findall(r'"[^"]*"|\S+', data[0].decode())[1:]
out['acl'] = [{'identifier': parts[i].strip('"'), 'rights': parts[i + 1].strip('"')} for i in range(0, len(parts), 2)]
typ, data = M.myrights(mailbox)
out['myrights'] = re.findall(r'"[^"]*"|\S+', data[0].decode())[1].strip('"')
if list_myrights:
    typ, data = M.list('""', '%s RETURN (MYRIGHTS)' % mailbox)
    assert typ == 'OK', (typ, data)
    # The untagged MYRIGHTS stays in imaplib's untagged_responses.
    typ, data = M.response('MYRIGHTS')
    out['list_myrights'] = re.findall(r'"[^"]*"|\S+', data[0].decode())[1].strip('"')
M.logout()
json.dump(out, sys.stdout)
