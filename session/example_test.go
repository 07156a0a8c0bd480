package session_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// exServe plays a tiny IMAP server on conn: it sends greeting, then answers
// each command line, looked up without its tag in replies, with the reply
// in which "TAG" stands for the command's tag. A line without a tag (such
// as IDLE's DONE) is looked up whole and answered with the previous tag.
// LOGOUT ends the connection after its reply.
func exServe(conn net.Conn, greeting string, replies map[string]string) {
	defer conn.Close()
	fmt.Fprintf(conn, "%s\r\n", greeting)
	r := bufio.NewReader(conn)
	tag := ""
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		key := line
		if t, rest, ok := strings.Cut(line, " "); ok {
			tag, key = t, rest
		}
		reply, ok := replies[key]
		if !ok {
			reply = "TAG BAD unexpected command"
		}
		fmt.Fprintf(conn, "%s\r\n", strings.ReplaceAll(reply, "TAG", tag))
		if key == "LOGOUT" {
			return
		}
	}
}

// Run sends a command and waits for its result; the session follows the
// connection state as imaplib does.
func Example_run() {
	client, server := transport.Pipe()
	go exServe(server, "* OK [CAPABILITY IMAP4rev1 LITERAL+] ready", map[string]string{
		`LOGIN alice "secret"`: "TAG OK [CAPABILITY IMAP4rev1 LITERAL+ IDLE MOVE] Logged in",
		"SELECT INBOX":         "* 3 EXISTS\r\n* OK [UIDVALIDITY 7] UIDs valid\r\nTAG OK [READ-WRITE] Selected",
		"SELECT nosuch":        "TAG NO [NONEXISTENT] No such mailbox",
		"LOGOUT":               "* BYE Logging out\r\nTAG OK Logged out",
	})
	ctx := context.Background()
	s, err := session.Open(ctx, client, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	fmt.Println(s.State(), s.ProtocolVersion())

	_, err = s.Run(ctx, &session.Command{Name: "LOGIN", Args: func(e *wire.Encoder) {
		e.SP().AString("alice").SP().Password("secret")
	}})
	fmt.Println(s.State(), err, s.HasCap("IDLE"))

	r, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range r.Data {
		if e, ok := d.(*codec.Exists); ok {
			fmt.Println("messages:", e.Count)
		}
	}
	fmt.Println(s.State(), r.Status.Code.Kind)

	_, err = s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("nosuch") }})
	fmt.Println(errors.Is(err, session.ErrNo), s.State())

	fmt.Println(s.Logout(ctx), s.State())
	// Output:
	// NONAUTH IMAP4rev1
	// AUTH <nil> true
	// messages: 3
	// SELECTED READ-WRITE
	// true AUTH
	// <nil> LOGOUT
}

// A command used in a state that does not allow it is refused before
// anything is sent, with imaplib's message.
func ExampleStateError() {
	client, server := transport.Pipe()
	go exServe(server, "* PREAUTH [CAPABILITY IMAP4rev1] welcome", nil)
	ctx := context.Background()
	s, err := session.Open(ctx, client, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	_, err = s.Run(ctx, &session.Command{Name: "FETCH", Args: func(e *wire.Encoder) { e.SP().Raw("1:* (FLAGS)") }})
	var se *session.StateError
	if errors.As(err, &se) {
		fmt.Println(se.Command, se.State, se.Allowed)
	}
	fmt.Println(err)
	// Output:
	// FETCH AUTH [SELECTED]
	// session: command FETCH illegal in state AUTH, only allowed in states SELECTED (select a mailbox first)
}

// A tagged NO or BAD is a *StatusError: errors.Is tells NO from BAD, and
// the response code is at hand. Here the server refuses a synchronizing
// literal before the client sends it.
func ExampleStatusError() {
	client, server := transport.Pipe()
	go exServe(server, "* PREAUTH [CAPABILITY IMAP4rev1] welcome", map[string]string{
		`APPEND INBOX {5}`: "TAG NO [OVERQUOTA] Quota exceeded",
		"XYZZY":            "TAG BAD Unknown command",
	})
	ctx := context.Background()
	s, err := session.Open(ctx, client, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	_, err = s.Run(ctx, &session.Command{Name: "APPEND", Args: func(e *wire.Encoder) {
		e.SP().Mailbox("INBOX").SP().Literal([]byte("Hi!\r\n"))
	}})
	var se *session.StatusError
	if errors.As(err, &se) && errors.Is(err, session.ErrNo) {
		fmt.Println("NO:", se.Code().Kind)
	}
	_, err = s.Run(ctx, &session.Command{Name: "XYZZY"})
	fmt.Println(errors.Is(err, session.ErrBad), err)
	// Output:
	// NO: OVERQUOTA
	// true session: XYZZY: BAD Unknown command
}

// The trace shows every line, passwords redacted.
func ExampleOptions_trace() {
	client, server := transport.Pipe()
	go exServe(server, "* OK [CAPABILITY IMAP4rev1] ready", map[string]string{
		`LOGIN alice "p4ssw0rd"`: "TAG OK [CAPABILITY IMAP4rev1] Logged in",
	})
	ctx := context.Background()
	s, err := session.Open(ctx, client, &session.Options{Trace: os.Stdout, TagPrefix: "A"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	s.Run(ctx, &session.Command{Name: "LOGIN", Args: func(e *wire.Encoder) {
		e.SP().AString("alice").SP().Password("p4ssw0rd")
	}})
	// Output:
	// S: * OK [CAPABILITY IMAP4rev1] ready
	// C: A1 LOGIN alice ***
	// S: A1 OK [CAPABILITY IMAP4rev1] Logged in
}

// Commands started together are pipelined; each gets its own result.
func ExampleSession_StartBatch() {
	client, server := transport.Pipe()
	go exServe(server, "* PREAUTH [CAPABILITY IMAP4rev1] welcome", map[string]string{
		"STATUS INBOX (MESSAGES)":   "* STATUS INBOX (MESSAGES 12)\r\nTAG OK done",
		"STATUS Archive (MESSAGES)": "* STATUS Archive (MESSAGES 340)\r\nTAG OK done",
		"NOOP":                      "TAG OK done",
	})
	ctx := context.Background()
	s, err := session.Open(ctx, client, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	status := func(mbox string) *session.Command {
		return &session.Command{Name: "STATUS", Args: func(e *wire.Encoder) { e.SP().Mailbox(mbox).SP().Raw("(MESSAGES)") }}
	}
	ps, err := s.StartBatch(ctx, []*session.Command{status("INBOX"), status("Archive"), {Name: "NOOP"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range ps {
		r, err := p.Wait(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, d := range r.Data {
			st := d.(*codec.MailboxStatus)
			fmt.Printf("%s: %d messages\n", st.Mailbox, st.Messages)
		}
	}
	// Output:
	// INBOX: 12 messages
	// Archive: 340 messages
}

// IDLE: start it, wait for the server's "+", then end it with DONE.
// Untagged data that no command asked for reaches OnUnsolicited, in order.
func ExamplePending_Continue() {
	client, server := transport.Pipe()
	go exServe(server, "* PREAUTH [CAPABILITY IMAP4rev1 IDLE] welcome", map[string]string{
		"SELECT INBOX": "* 3 EXISTS\r\nTAG OK [READ-WRITE] Selected",
		"IDLE":         "+ idling\r\n* 4 EXISTS\r\n* 1 RECENT",
		"DONE":         "TAG OK IDLE terminated",
	})
	events := make(chan codec.Response, 10)
	ctx := context.Background()
	s, err := session.Open(ctx, client, &session.Options{OnUnsolicited: func(r codec.Response) { events <- r }})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }}); err != nil {
		fmt.Println(err)
		return
	}
	<-events // SELECT's 3 EXISTS: mailbox state goes to the stream too

	p, err := s.Start(ctx, &session.Command{Name: "IDLE"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("server: + %s\n", <-p.Continuations())
	for i := 0; i < 2; i++ {
		switch r := (<-events).(type) {
		case *codec.Exists:
			fmt.Println("exists:", r.Count)
		case *codec.Recent:
			fmt.Println("recent:", r.Count)
		}
	}
	if err := p.Continue(ctx, []byte("DONE")); err != nil {
		fmt.Println(err)
		return
	}
	r, err := p.Wait(ctx)
	fmt.Println(r.Status.Kind, err)
	// Output:
	// server: + idling
	// exists: 4
	// recent: 1
	// OK <nil>
}
