// Package testserver starts a real IMAP server (Dovecot 2.3) for tests and
// demos. Tests get a private, fully configured server in a temporary
// directory:
//
//	s := testserver.StartT(t, &testserver.Options{Seed: 50})
//	conn, err := tls.Dial("tcp", s.TLSAddr, s.TLSConfig())
//
// A missing or broken Dovecot is a test failure (t.Fatal), never a skip,
// in CI and locally. Install it with
//
//	apt-get install -y dovecot-imapd dovecot-core
//
// The system Dovecot service is not used and need not run: every server
// has its own self-contained DIR/dovecot.conf (nothing from /etc/dovecot)
// and keeps all state in DIR: config, passwd-files, certificates (DIR/tls),
// Dovecot's log (DIR/dovecot.log; DIR/dovecot.stderr holds the master's own
// output), sockets and pid (DIR/run), state (DIR/state) and mail
// (DIR/mail/USER/Maildir). If DIR is too long for Unix socket paths, the
// sockets go to a short directory under /tmp instead (DIR/run links to it;
// Stop removes it). A start takes about 0.1 s; Stop takes milliseconds
// (occasionally about a second) and leaves no process behind. If the test
// binary dies without calling Stop, the Dovecot master gets SIGTERM from
// the kernel (parent-death signal) and stops.
//
// # Accounts
//
//   - Alice ("alice") and Bob ("bob"), password Password ("pass").
//   - TinyUser ("tiny"), password Password, with a storage quota of
//     TinyQuotaKiB (20 KiB): an APPEND of a large message fails with
//     [OVERQUOTA].
//   - MasterUser ("master"), password MasterPassword ("masterpass"): a
//     Dovecot master user. Log in as "alice*master" (LOGIN) or with SASL
//     PLAIN authzid "alice", authcid "master" to act as alice with alice's
//     rights. The master user cannot log in as itself.
//
// Passwords are stored in plaintext, so the mechanisms PLAIN, LOGIN,
// CRAM-MD5, SCRAM-SHA-1 and SCRAM-SHA-256 all work. Plaintext LOGIN is
// allowed on the plain port (loopback counts as secure; no LOGINDISABLED).
// Failed logins are answered after about 0.5 s (Dovecot batches failures);
// the per-IP auth penalty is disabled.
//
// # Listeners
//
// Both listen on 127.0.0.1 on free ports:
//
//   - Server.PlainAddr: IMAP on plain TCP, STARTTLS offered.
//   - Server.TLSAddr: IMAP with implicit TLS.
//
// The certificate is signed by a CA generated for this server (ECDSA
// P-256, Server.CAPEM) and is valid for "localhost" (Server.ServerName),
// 127.0.0.1 and ::1. Server.TLSConfig returns a matching client config.
//
// The ports are free when chosen, but another process (another test's fake
// server or proxy) may bind one before the server does. So a start dials
// its ports only once the server holds them: Dovecot's master logs
// "starting up" after binding all its listeners (and exits with "Address
// already in use" when one is taken); Cyrus's master must hold the
// listening socket (seen in /proc), and exits on a bind failure
// (master_bind_errors_fatal). A taken port makes the start try other
// ports (five attempts); an answer that fails after that is the server's
// own and fails the start, with the tail of its log.
//
// Server.StreamCommand returns an argv that speaks IMAP on stdin/stdout,
// already authenticated ("* PREAUTH"), for transports over pipes. It runs
// Dovecot's imap binary directly with this server's config: "doveadm exec
// imap" looks like the obvious choice but exports doveadm's settings, not
// the imap protocol ones, so METADATA, QUOTA, ACL and COMPRESS would be
// missing.
//
// # What is enabled
//
// Maildir mail store (owned by the system user "vmail", created with
// useradd when running as root; otherwise everything runs as the current
// user). Namespace separator "/"; special-use mailboxes Drafts, Sent,
// Trash, Junk and Archive are created and subscribed automatically; other
// users' mailboxes shared by ACL appear under "shared/USER/". Plugins:
// quota (QUOTA), acl (ACL, RIGHTS=texk), zlib (COMPRESS=DEFLATE) and
// IMAP METADATA (server and mailbox annotations). Also everything Dovecot
// has built in: IDLE, MOVE, UIDPLUS, CONDSTORE, QRESYNC, ESEARCH, SORT,
// THREAD, LIST-EXTENDED, LIST-STATUS, SPECIAL-USE, BINARY, LITERAL+,
// NAMESPACE, ID, ENABLE, NOTIFY, SASL-IR. Up to 1000 connections per user
// and IP; changes made by other sessions show up in IDLE within about a
// second.
//
// # Test data
//
// SampleMessages(n) returns n deterministic, realistic messages (plain
// text, multipart/alternative, attachments, forwarded messages, encoded
// headers in UTF-8, ISO-8859-1, ISO-2022-JP, KOI8-R and windows-1252,
// replies with In-Reply-To); SampleInfo(i) describes message i (subject,
// sender, date, a body token unique to the message ...) so that tests can
// compute expected SEARCH, SORT and THREAD results. Options.Seed puts
// SampleMessages(Seed) into alice's INBOX at start; Server.SeedMailbox adds
// any messages to any mailbox quickly (20,000 messages take a few seconds)
// by writing Maildir files and running "doveadm force-resync". UIDs follow
// the order of the slice; INTERNALDATE is each message's Date header.
//
// # Adding a server kind (Cyrus imapd)
//
// Each Kind is implemented by a type that satisfies the unexported backend
// interface (start, stop, streamCommand, seedMailbox) and is registered in
// the backends map; dovecot.go, dovecot_conf.go and dovecot_seed.go are the
// Dovecot implementation. A Cyrus backend would add cyrus.go (finding the
// binaries, writing imapd.conf and cyrus.conf into DIR, starting the master
// with the helpers startProcess, freePorts and waitReady, and stopping it
// with terminate and killLeftovers), create the same accounts (the
// constants above, with a Cyrus admin standing in for MasterUser), reuse
// the certificate in tlsMaterial, and seed mailboxes with its own tools
// (e.g. writing files and running reconstruct). Options.Kind selects it.
//
// # Cyrus
//
// StartCyrus and StartCyrusT (Linux, root) start a private Cyrus imapd 3.6
// with alice and the administrator CyrusAdmin, ANNOTATEMORE on, for what
// only Cyrus has here (ANNOTATEMORE, SETQUOTA by an administrator,
// OBJECTID, LIST-MYRIGHTS). StartCyrusWith and StartCyrusWithT take
// CyrusOptions: NoConversations for a test that appends thousands of
// messages and needs no THREADID (TestLongAnswersCyrus).
package testserver
