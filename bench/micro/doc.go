// Package micro holds the in-process comparison benchmarks of the bench
// module: the same recorded server bytes (internal/corpus) decoded by every
// contender, with -benchmem. The benchmarks are in its test files; run
// them with
//
//	cd bench && go test -run '^$' -bench . -benchmem ./micro/
//
// The streams:
//
//   - Metadata: 10,000 untagged FETCH responses of about 1 KB each (UID,
//     FLAGS, INTERNALDATE, RFC822.SIZE, ENVELOPE, BODYSTRUCTURE, MODSEQ and
//     a BODY[HEADER.FIELDS (LIST-ID X-PRIORITY)] literal).
//   - Bodies: 100 FETCH responses with a BODY[] literal of 100 KiB.
//   - Search: one SEARCH response of 100,000 UIDs.
//
// The contenders, each a sub-benchmark:
//
//   - plain: reads the bytes from the connection into a 64 KiB buffer and
//     parses nothing (the ceiling);
//   - codec: imapkit's codec.Decoder over a plain reader (no connection,
//     no session);
//   - session-pull: imapkit's session.Command.Pull, drained with
//     Pending.Next on the caller's goroutine;
//   - session-run: imapkit's session.Session.Run, collecting the responses
//     in Result.Data (bodies streamed through Command.Sections, since they
//     exceed the tokenizer's 64 KiB string limit);
//   - commands: imapkit's commands.Client (the Fetch iterator, Search);
//   - goimap: github.com/emersion/go-imap/v2 v2.0.0-beta.8's imapclient.
//
// Every contender except codec reads from a transport.Pipe whose other end
// is the scripted server of bench/internal/scripted, which greets with PREAUTH, answers SELECT and replays
// the recorded bytes for FETCH and SEARCH. Each contender checks what it
// decoded (message count, the sum of the UIDs, the body bytes) on every
// iteration; TestContenders checks them once in the ordinary test run.
package micro
