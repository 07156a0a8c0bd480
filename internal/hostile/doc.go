// Package hostile is a scripted IMAP server for tests: it plays one
// scenario per connection, the way a broken or malicious server would, so
// that tests can prove what a client does with hostile bytes.
//
// A [Scenario] is plain Go code that drives a [Conn] with small helpers:
// send the greeting, read a command and its tag, reply, write raw bytes,
// write bytes slowly, stall, close, switch to TLS or to COMPRESS=DEFLATE,
// and stream huge or endless input produced lazily by the readers of this
// package ([Repeat], [Endless], [Nested], [Random], [Generate]) or by
// [Conn.DeflateBomb], so that the server itself stays bounded in memory
// however much it sends.
//
// A [Server] listens on 127.0.0.1 (real TCP) and runs the scenario for
// every connection it accepts; [Pipe] plays a scenario over an in-memory
// [transport.Pipe] instead. [Server.Close] closes every connection,
// interrupts every stall and waits for every goroutine of the server:
// nothing is left running.
//
// Every helper returns an error once the connection is closed by either
// side, so a scenario ends as soon as the client gives up. The package does
// not import testing; tests check [Server.Err] for scenarios that
// did not go as scripted.
package hostile
