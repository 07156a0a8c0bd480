package session_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/fuzzseed"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/workhook"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// readCommand reads one client command, literals included: it answers a
// synchronizing literal with "+" and returns the whole command with the
// literal bodies inline.
func readCommand(r *bufio.Reader, w io.Writer) string {
	var sb strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return sb.String()
		}
		sb.WriteString(line)
		l := strings.TrimRight(line, "\r\n")
		i := strings.LastIndexByte(l, '{')
		if i < 0 || !strings.HasSuffix(l, "}") {
			return sb.String()
		}
		num := strings.TrimSuffix(l[i+1:len(l)-1], "+")
		var n int
		fmt.Sscan(num, &n)
		if !strings.HasSuffix(l, "+}") {
			io.WriteString(w, "+ go ahead\r\n")
		}
		b := make([]byte, n)
		io.ReadFull(r, b)
		sb.Write(b)
	}
}

// TestRoutingStatusLiteralName: two pipelined STATUS commands, the second
// for a 1,100-byte name that goes out as a literal; the server answers the
// second first. Each must get its own STATUS response, whether the
// mailbox is given as a typed fact (Command.Mailbox) or read back from the
// encoded bytes (a raw command), with LITERAL+ or a synchronizing literal.
// Before the descriptor table, the first command got both responses.
func TestRoutingStatusLiteralName(t *testing.T) {
	long := strings.Repeat("x", 1100)
	for _, tc := range []struct {
		name  string
		caps  string
		typed bool
	}{
		{"raw, LITERAL+", "IMAP4rev1 LITERAL+", false},
		{"typed, LITERAL+", "IMAP4rev1 LITERAL+", true},
		{"raw, synchronizing", "IMAP4rev1", false},
		{"typed, synchronizing", "IMAP4rev1", true},
		{"raw, 8-bit name", "IMAP4rev1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			second := long
			if strings.Contains(tc.name, "8-bit") {
				second = "Grüße-" + strings.Repeat("y", 20) // goes out as modified UTF-7: "Gr&APw-&AN8-e-"
			}
			conn := fake(t, func(r *bufio.Reader, w io.Writer) {
				io.WriteString(w, "* PREAUTH [CAPABILITY "+tc.caps+"] hi\r\n")
				c1 := readCommand(r, w)
				c2 := readCommand(r, w)
				if !strings.HasPrefix(c1, "A1 STATUS") || !strings.HasPrefix(c2, "A2 STATUS") {
					io.WriteString(w, "* BYE unexpected\r\n")
					return
				}
				// The second first, its name as a literal.
				io.WriteString(w, fmt.Sprintf("* STATUS {%d}\r\n%s (MESSAGES 2)\r\n", len(codec.EncodeMailbox(second)), codec.EncodeMailbox(second)))
				io.WriteString(w, "* STATUS short (MESSAGES 1)\r\n")
				io.WriteString(w, "A1 OK done\r\nA2 OK done\r\n")
				io.Copy(io.Discard, r)
			})
			s := openDefaults(t, conn, nil)
			status := func(name string) *session.Command {
				c := &session.Command{Name: "STATUS", Args: func(e *wire.Encoder) {
					e.SP().Mailbox(codec.EncodeMailbox(name)).SP().Raw("(MESSAGES)")
				}}
				if tc.typed {
					c.Mailbox = name
				}
				return c
			}
			ps, err := s.StartBatch(hangCtx(t), []*session.Command{status("short"), status(second)})
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range []uint32{1, 2} {
				r, err := ps[i].Wait(hangCtx(t))
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Data) != 1 {
					t.Fatalf("command %d got %d STATUS responses; want 1", i+1, len(r.Data))
				}
				if st := r.Data[0].(*codec.MailboxStatus); st.Messages != want {
					t.Fatalf("command %d got MESSAGES %d; want %d", i+1, st.Messages, want)
				}
			}
		})
	}
}

// TestRoutingStatusUTF8ModeDecodedNameOnlyWhenNoneSentSo: in UTF-8 mode
// a STATUS response is matched by its name as sent first, and by the name
// decoded from modified UTF-7 only when no STATUS in flight names it as
// sent. Here the STATUS of "R&-D" wants UIDNEXT only, and the STATUS of
// "R&D" MESSAGES: "* STATUS R&-D (MESSAGES 5)", another notice of "R&-D"
// that its command does not want, is not "R&D"'s answer though "R&-D"
// decodes to "R&D"; it goes to the unsolicited stream.
func TestRoutingStatusUTF8ModeDecodedNameOnlyWhenNoneSentSo(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev2] hi\r\n")
		readCommand(r, w)
		readCommand(r, w)
		io.WriteString(w, "* STATUS R&-D (MESSAGES 5)\r\n* STATUS R&D (MESSAGES 1)\r\n* STATUS R&-D (UIDNEXT 7)\r\n")
		io.WriteString(w, "A1 OK done\r\nA2 OK done\r\n")
		io.Copy(io.Discard, r)
	})
	var mu sync.Mutex
	var unsolicited []*codec.MailboxStatus
	s := openDefaultsWith(t, conn, &session.Options{TagPrefix: "A", OnUnsolicited: func(r codec.Response) {
		if st, ok := r.(*codec.MailboxStatus); ok {
			mu.Lock()
			unsolicited = append(unsolicited, st)
			mu.Unlock()
		}
	}})
	status := func(name, item string, want codec.StatusItem) *session.Command {
		return &session.Command{Name: "STATUS", Mailbox: name, Args: func(e *wire.Encoder) {
			e.SP().Mailbox(name).SP().Raw("(" + item + ")")
		}, Want: func(r codec.Response) bool {
			st, ok := r.(*codec.MailboxStatus)
			return ok && st.Items&want != 0
		}}
	}
	ps, err := s.StartBatch(hangCtx(t), []*session.Command{
		status("R&D", "MESSAGES", codec.StatusMessages),
		status("R&-D", "UIDNEXT", codec.StatusUIDNext),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"R&D", "R&-D"} {
		r, err := ps[i].Wait(hangCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range r.Data {
			if st := d.(*codec.MailboxStatus); string(st.Mailbox) != want {
				t.Errorf("STATUS %s took the STATUS of %s (MESSAGES %d UIDNEXT %d); want only its own", want, st.Mailbox, st.Messages, st.UIDNext)
			}
		}
		if len(r.Data) != 1 {
			t.Errorf("STATUS %s got %d STATUS responses; want 1", want, len(r.Data))
		}
	}
	if t.Failed() {
		return
	}
	waitEvents(&mu, func() bool { return len(unsolicited) > 0 })
	mu.Lock()
	defer mu.Unlock()
	if len(unsolicited) != 1 || string(unsolicited[0].Mailbox) != "R&-D" || unsolicited[0].Messages != 5 {
		t.Errorf("unsolicited STATUS %v; want the one of R&-D, MESSAGES 5", unsolicited)
	}
}

// TestRoutingFetchOutOfOrder: two pipelined UID FETCH commands with typed
// message sets, answered interleaved and out of order.
func TestRoutingFetchOutOfOrder(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w)
		readCommand(r, w)
		readCommand(r, w)
		io.WriteString(w, "* 5 FETCH (UID 50 FLAGS ())\r\n* 1 FETCH (UID 10 FLAGS ())\r\n* 6 FETCH (UID 60 FLAGS ())\r\n* 2 FETCH (UID 20 FLAGS ())\r\n")
		io.WriteString(w, "* SEARCH 2 5\r\n")
		io.WriteString(w, "A2 OK done\r\nA1 OK done\r\nA3 OK done\r\n")
		io.Copy(io.Discard, r)
	})
	s := openDefaults(t, conn, nil)
	uids := func(a, b uint32) *codec.SeqSet {
		var set codec.SeqSet
		set.AddRange(a, b)
		return &set
	}
	fetch := func(set *codec.SeqSet) *session.Command {
		return &session.Command{Name: "UID FETCH", AnyState: true, Messages: set, Args: func(e *wire.Encoder) {
			e.SP().Raw(set.String()).SP().Raw("(FLAGS)")
		}}
	}
	search := &session.Command{Name: "UID SEARCH", AnyState: true, Args: func(e *wire.Encoder) { e.SP().Atom("ALL") }}
	ps, err := s.StartBatch(hangCtx(t), []*session.Command{fetch(uids(10, 20)), fetch(uids(50, 60)), search})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]uint32{{10, 20}, {50, 60}} {
		r, err := ps[i].Wait(hangCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		var got []uint32
		for _, d := range r.Data {
			got = append(got, d.(*codec.Fetch).UID)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("FETCH %d got UIDs %v; want %v", i+1, got, want)
		}
	}
	r, err := ps[2].Wait(hangCtx(t))
	if err != nil || len(r.Data) != 1 {
		t.Fatalf("SEARCH: %v, %v", r, err)
	}
}

// TestRoutingUIDSubcommand: imaplib's uid("FETCH", ...) sent as the command
// UID with the subcommand as its first argument gets UID FETCH's rules: the
// state check, and its FETCH data in Result.Data.
func TestRoutingUIDSubcommand(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w) // SELECT
		io.WriteString(w, "* 3 EXISTS\r\nA1 OK [READ-WRITE] done\r\n")
		l := readCommand(r, w)
		if l != "A2 UID FETCH 1:* (FLAGS)\r\n" {
			io.WriteString(w, "* BYE unexpected "+strings.TrimSpace(l)+"\r\n")
			return
		}
		io.WriteString(w, "* 1 FETCH (UID 7 FLAGS (\\Seen))\r\nA2 OK done\r\n")
		io.Copy(io.Discard, r)
	})
	s := openDefaults(t, conn, nil)
	uid := &session.Command{Name: "UID", Args: func(e *wire.Encoder) { e.SP().Atom("FETCH").SP().Raw("1:*").SP().Raw("(FLAGS)") }}
	// In AUTH, UID FETCH is refused before anything is sent.
	if _, err := s.Run(hangCtx(t), uid); !errors.As(err, new(*session.StateError)) {
		t.Fatalf("uid FETCH in AUTH: %v; want a StateError", err)
	}
	if _, err := s.Run(hangCtx(t), sel("INBOX")); err != nil {
		t.Fatal(err)
	}
	r, err := s.Run(hangCtx(t), uid)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Data) != 1 || r.Data[0].(*codec.Fetch).UID != 7 {
		t.Fatalf("uid FETCH data: %+v", r.Data)
	}
}

// TestKeptClearedOnSelect: as imaplib, the responses kept from the mailbox
// selected before are forgotten when another is selected.
func TestKeptClearedOnSelect(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w)
		io.WriteString(w, "* 2 EXISTS\r\n* 1 RECENT\r\nA1 OK [READ-ONLY] done\r\n")
		readCommand(r, w)
		io.WriteString(w, "A2 OK closed\r\n")
		readCommand(r, w)
		io.WriteString(w, "* 5 EXISTS\r\n* 3 RECENT\r\nA3 OK [READ-WRITE] done\r\n")
		io.Copy(io.Discard, r)
	})
	s := openDefaults(t, conn, nil)
	exam := &session.Command{Name: "EXAMINE", Args: func(e *wire.Encoder) { e.SP().Mailbox("Other") }}
	if _, err := s.Run(hangCtx(t), exam); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(hangCtx(t), &session.Command{Name: "CLOSE"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(hangCtx(t), sel("INBOX")); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Recent(hangCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(rec) != 1 || rec[0].(*codec.Recent).Count != 3 {
		t.Fatalf("Recent after EXAMINE, CLOSE, SELECT: %+v; want the one RECENT of INBOX", rec)
	}
}

// TestLoginFollowUpFails: a LOGIN that succeeded stays a success when the
// CAPABILITY after it fails; the failure is reported in FollowUpErr.
func TestLoginFollowUpFails(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* OK [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w)
		io.WriteString(w, "A1 OK logged in\r\n")
		readCommand(r, w) // CAPABILITY
		io.WriteString(w, "A2 BAD not now\r\n")
		io.Copy(io.Discard, r)
	})
	s := openDefaults(t, conn, nil)
	r, err := s.Run(hangCtx(t), loginCommand("alice", "secret"))
	if err != nil {
		t.Fatalf("LOGIN: %v; want success", err)
	}
	if !errors.Is(r.FollowUpErr, session.ErrBad) {
		t.Fatalf("FollowUpErr = %v; want the CAPABILITY's BAD", r.FollowUpErr)
	}
	if s.State() != session.StateAuth {
		t.Fatalf("state %v", s.State())
	}
}

// TestRulesForExtension: Command.Rules gives an extension command the
// session does not know its state check, its data and its pipelining.
func TestRulesForExtension(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1 XLIST] hi\r\n")
		readCommand(r, w)
		io.WriteString(w, "* XLIST (\\HasNoChildren) \"/\" INBOX\r\nA1 OK done\r\n")
		io.Copy(io.Discard, r)
	})
	s := openDefaults(t, conn, nil)
	rules := &session.Rules{States: []session.State{session.StateAuth, session.StateSelected}, Data: []string{"XLIST"}}
	r, err := s.Run(hangCtx(t), &session.Command{Name: "XLIST", Rules: rules, Args: func(e *wire.Encoder) {
		e.SP().AString("").SP().AString("*")
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Data) != 1 || codec.ResponseName(r.Data[0]) != "XLIST" {
		t.Fatalf("XLIST data: %+v", r.Data)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Run(ctx, &session.Command{Name: "XLIST", Rules: &session.Rules{States: []session.State{session.StateNonAuth}}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// TestRoutingStatusSameMailbox: two pipelined STATUS commands for the same
// mailbox get one response each (the second used to get none: both went
// to the oldest).
func TestRoutingStatusSameMailbox(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		readCommand(r, w)
		readCommand(r, w)
		io.WriteString(w, "* STATUS INBOX (MESSAGES 1)\r\nA1 OK done\r\n* STATUS INBOX (MESSAGES 2)\r\nA2 OK done\r\n")
		io.Copy(io.Discard, r)
	})
	s := openDefaults(t, conn, nil)
	cmd := func() *session.Command {
		return &session.Command{Name: "STATUS", Mailbox: "INBOX", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX").SP().Raw("(MESSAGES)") }}
	}
	ps, err := s.StartBatch(hangCtx(t), []*session.Command{cmd(), cmd()})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []uint32{1, 2} {
		r, err := ps[i].Wait(hangCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Data) != 1 || r.Data[0].(*codec.MailboxStatus).Messages != want {
			t.Fatalf("STATUS %d: %+v; want MESSAGES %d", i+1, r.Data, want)
		}
	}
}

// idleFake is a server that puts the names of the commands it gets on
// got, answers IDLE with "+" and, after DONE, OK, and any other command
// with OK.
func idleFake(t *testing.T, got chan<- string) net.Conn {
	return fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n")
		for {
			l := readLine(r)
			if l == "" {
				return
			}
			tag, cmd, _ := strings.Cut(l, " ")
			cmd, _, _ = strings.Cut(cmd, " ")
			got <- cmd
			switch cmd {
			case "IDLE":
				io.WriteString(w, "+ idling\r\n")
				if readLine(r) != "DONE" {
					return
				}
				io.WriteString(w, tag+" OK idle done\r\n")
			default:
				io.WriteString(w, tag+" OK done\r\n")
			}
		}
	})
}

// TestAloneLetsWaitersGoFirst: a command that runs alone lets the commands
// already waiting for their turn go first. A NOOP started while IDLE is in
// flight waits for it; the IDLE ends and a new one is started at once (as
// commands.Client.Idle does at each restart): the NOOP is sent before the
// new IDLE, not after it (it used to lose that race, over and over).
func TestAloneLetsWaitersGoFirst(t *testing.T) {
	got := make(chan string, 16)
	conn := idleFake(t, got)
	s := openDefaults(t, conn, nil)
	ctx := hangCtx(t)
	idle := &session.Command{Name: "IDLE"}
	p, err := s.Start(ctx, idle)
	if err != nil {
		t.Fatal(err)
	}
	<-p.Continuations()
	noop := make(chan error, 1)
	go func() { _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); noop <- err }()
	for session.Waiting(s) == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := p.Continue(ctx, []byte("DONE")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	p2, err := s.Start(ctx, idle) // at once, as a restart does
	if err != nil {
		t.Fatal(err)
	}
	if err := <-noop; err != nil {
		t.Fatalf("NOOP: %v", err)
	}
	<-p2.Continuations()
	if err := p2.Continue(ctx, []byte("DONE")); err != nil {
		t.Fatal(err)
	}
	if _, err := p2.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	var order []string
	for len(got) > 0 {
		order = append(order, <-got)
	}
	if strings.Join(order, " ") != "IDLE NOOP IDLE" {
		t.Fatalf("the server got %v, want IDLE NOOP IDLE", order)
	}
}

// TestAfterBlocking: the function given to AfterBlocking of an IDLE runs
// once a command waits for the IDLE to end (one that runs alone, SELECT,
// as well as one that does not, NOOP), at once when one already waits,
// and not at all for a command that is over; an IDLE started while a
// SELECT waits lets the SELECT go first.
func TestAfterBlocking(t *testing.T) {
	got := make(chan string, 16)
	conn := idleFake(t, got)
	s := openDefaults(t, conn, nil)
	ctx := hangCtx(t)
	idle := &session.Command{Name: "IDLE"}
	called := func(blocked chan struct{}) {
		t.Helper()
		select {
		case <-blocked:
		case <-ctx.Done():
			t.Fatal("AfterBlocking's function was not called")
		}
	}
	// endIdle waits for p's AfterBlocking function, then ends p.
	endIdle := func(p *session.Pending, blocked chan struct{}) {
		t.Helper()
		called(blocked)
		if err := p.Continue(ctx, []byte("DONE")); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, other := range []*session.Command{{Name: "NOOP"}, {Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }}} {
		p, err := s.Start(ctx, idle)
		if err != nil {
			t.Fatal(err)
		}
		blocked := make(chan struct{})
		stop := p.AfterBlocking(func() { close(blocked) })
		<-p.Continuations()
		select {
		case <-blocked:
			t.Fatalf("called with nothing waiting (%s)", other.Name)
		default:
		}
		done := make(chan error, 1)
		go func() { _, err := s.Run(ctx, other); done <- err }()
		called(blocked)
		// A command already waits: a function given now runs at once.
		again := make(chan struct{})
		p.AfterBlocking(func() { close(again) })
		endIdle(p, again)
		if stop() {
			t.Error("stop reported that it stopped a function that ran")
		}
		// The next IDLE, started at once, lets the waiting command go
		// first.
		p2, err := s.Start(ctx, idle)
		if err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("%s: %v", other.Name, err)
		}
		<-p2.Continuations()
		if err := p2.Continue(ctx, []byte("DONE")); err != nil {
			t.Fatal(err)
		}
		if _, err := p2.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		// Over: the function is not called, and stop finds nothing.
		if p2.AfterBlocking(func() { t.Error("called for a command that is over") })() {
			t.Error("stop of a command that is over reported that it stopped a function")
		}
	}
	var order []string
	for len(got) > 0 {
		order = append(order, <-got)
	}
	if want := "IDLE NOOP IDLE IDLE SELECT IDLE"; strings.Join(order, " ") != want {
		t.Fatalf("the server got %v, want %s", order, want)
	}
}

// lineFeed hands a fake server the client's lines on a channel, closed at
// the client's EOF, so that the server can wait for a line and something
// else at once; it gives up a line nobody takes once stop is closed (nil:
// never).
func lineFeed(r *bufio.Reader, stop <-chan struct{}) <-chan string {
	lines := make(chan string)
	go func() {
		defer close(lines)
		for l := readLine(r); l != ""; l = readLine(r) {
			select {
			case lines <- l:
			case <-stop:
				return
			}
		}
	}()
	return lines
}

// cmdLog records, in order, the names of the commands a scripted server
// read. It keeps every one: the channel it replaced dropped names when
// full, and TestAloneNotStarved waited for ever for a SELECT dropped behind
// a thousand NOOPs on a loaded machine (its reads had no deadline either).
type cmdLog struct {
	mu    sync.Mutex
	names []string
}

func (l *cmdLog) add(name string) {
	l.mu.Lock()
	l.names = append(l.names, name)
	l.mu.Unlock()
}

// waitUntil polls until done holds for the names so far and returns them;
// after 20 s it fails the test, saying what it waited for.
func (l *cmdLog) waitUntil(t *testing.T, what string, done func(names []string) bool) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		l.mu.Lock()
		names := l.names[:len(l.names):len(l.names)]
		l.mu.Unlock()
		if done(names) {
			return names
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 20 s: the server read %d commands", what, len(names))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// laggingServer is a scripted server that answers each command only when
// the next one comes (or after 100 ms of quiet), so that goroutines
// running commands one after the other always keep one in flight. It
// adds name(command) to seen for each command it reads.
func laggingServer(t *testing.T, seen *cmdLog, name func(cmd string) string) net.Conn {
	return fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		lines := lineFeed(r, nil)
		var open []string // tags not yet answered, oldest first
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					return
				}
				tag, cmd, _ := strings.Cut(l, " ")
				seen.add(name(cmd))
				if len(open) > 0 {
					io.WriteString(w, open[0]+" OK done\r\n")
					open = open[1:]
				}
				open = append(open, tag)
			case <-time.After(100 * time.Millisecond):
				for _, tag := range open {
					io.WriteString(w, tag+" OK done\r\n")
				}
				open = open[:0]
			}
		}
	})
}

// TestAloneNotStarved: a command that runs alone gets its turn while other
// goroutines keep pipelined commands in flight without pause. The server
// answers a command only when the next one comes (or after 100 ms of
// quiet), so that two goroutines running NOOP after NOOP always leave one
// in flight: a SELECT that waited for nothing to be in flight waited for
// ever. The commands started after the SELECT waits now wait for it.
func TestAloneNotStarved(t *testing.T) {
	seen := new(cmdLog)
	conn := laggingServer(t, seen, func(cmd string) string {
		cmd, _, _ = strings.Cut(cmd, " ")
		return cmd
	})
	s := openDefaults(t, conn, nil)
	ctx := hangCtx(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
					t.Errorf("NOOP: %v", err)
					return
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	for _, c := range seen.waitUntil(t, "50 NOOPs", func(n []string) bool { return len(n) >= 50 }) {
		if c != "NOOP" {
			t.Fatalf("the server got %s; only NOOPs were sent", c)
		}
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.Run(sctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }}); err != nil {
		t.Fatalf("SELECT did not get its turn: %v", err)
	}
	// The NOOPs go on after it.
	names := seen.waitUntil(t, "command after the SELECT", func(n []string) bool {
		i := slices.Index(n, "SELECT")
		return i >= 0 && i+1 < len(n)
	})
	if c := names[slices.Index(names, "SELECT")+1]; c != "NOOP" {
		t.Fatalf("after SELECT the server got %s", c)
	}
}

// TestConflictingNotStarved: a command that may not be in flight beside
// the pipelined commands of other goroutines gets its turn, though they
// never leave a gap: the server answers a command only when the next one
// comes (or after 100 ms of quiet), so that two goroutines running UID
// commands one after the other always keep one in flight. A FETCH by
// sequence number (no EXPUNGE may come during it, and none may come
// between its numbers and the server's reading of them) waited for ever
// behind UID STORE 1, 2, 1, 2, ..., and a UID FETCH 1:* behind UID
// FETCHes of single messages, which it overlaps. Now the commands that
// come after it wait for it once what held it back when it came is over.
func TestConflictingNotStarved(t *testing.T) {
	for _, c := range []struct {
		name   string
		stream func(i int) *session.Command
		held   *session.Command
	}{
		{"sequence numbers behind UID commands",
			func(i int) *session.Command {
				return &session.Command{Name: "UID STORE", Args: func(e *wire.Encoder) {
					e.SP().Number(uint64(1 + i%2)).SP().Raw(`+FLAGS (\Seen)`)
				}}
			},
			&session.Command{Name: "FETCH", Args: func(e *wire.Encoder) { e.SP().Raw("1:*").SP().Atom("FLAGS") }}},
		{"an overlapping set",
			func(i int) *session.Command {
				return &session.Command{Name: "UID FETCH", Args: func(e *wire.Encoder) {
					e.SP().Number(uint64(1 + i%2)).SP().Atom("FLAGS")
				}}
			},
			&session.Command{Name: "UID FETCH", Args: func(e *wire.Encoder) { e.SP().Raw("1:*").SP().Atom("FLAGS") }}},
	} {
		t.Run(c.name, func(t *testing.T) {
			held := c.held.Name
			seen := new(cmdLog)
			conn := laggingServer(t, seen, func(cmd string) string {
				if strings.HasPrefix(cmd, held+" 1:*") {
					return "held"
				}
				return cmd
			})
			s := openDefaults(t, conn, nil)
			ctx := hangCtx(t)
			if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }}); err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for g := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := g; ; i += 2 {
						select {
						case <-stop:
							return
						default:
						}
						if _, err := s.Run(ctx, c.stream(i)); err != nil {
							t.Errorf("%s: %v", c.stream(i).Name, err)
							return
						}
					}
				}()
			}
			defer func() { close(stop); wg.Wait() }()
			// The SELECT, then 50 of the stream.
			if slices.Contains(seen.waitUntil(t, "50 commands of the stream", func(n []string) bool { return len(n) >= 51 }), "held") {
				t.Fatalf("the server got %s before it was started", held)
			}
			hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if _, err := s.Run(hctx, c.held); err != nil {
				t.Fatalf("%s did not get its turn: %v", held, err)
			}
		})
	}
}

// TestNestedCommandOvertakesWaiter: a pulled FETCH's caller runs a command
// in its loop (UID FETCH 10, apart from the loop's 1:5) while another
// goroutine's UID FETCH 1:* waits for the loop's FETCH to end. The inner
// command conflicts with the waiting one (it overlaps "*"), but it must
// not wait behind it: the waiting one waits for the loop, and the loop
// for the inner command. The server here ends the loop's FETCH only
// after it has answered the inner command.
func TestNestedCommandOvertakesWaiter(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		lines := lineFeed(r, nil)
		outer := ""
		for l := range lines {
			tag, cmd, _ := strings.Cut(l, " ")
			switch {
			case strings.HasPrefix(cmd, "UID FETCH 1:5 "):
				outer = tag
				io.WriteString(w, "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n")
			case strings.HasPrefix(cmd, "UID FETCH 10 "):
				io.WriteString(w, "* 9 FETCH (UID 10 FLAGS ())\r\n"+tag+" OK inner\r\n"+outer+" OK outer\r\n")
			default:
				io.WriteString(w, tag+" OK done\r\n")
			}
		}
	})
	s := openDefaults(t, conn, nil)
	ctx := hangCtx(t)
	if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }}); err != nil {
		t.Fatal(err)
	}
	uidFetch := func(set string, pull bool) *session.Command {
		return &session.Command{Name: "UID FETCH", Pull: pull, Args: func(e *wire.Encoder) { e.SP().Raw(set).SP().Atom("FLAGS") }}
	}
	p, err := s.Start(ctx, uidFetch("1:5", true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Next(ctx); err != nil {
		t.Fatal(err)
	}
	waiting := make(chan error, 1)
	go func() {
		_, err := s.Run(ctx, uidFetch("1:*", false))
		waiting <- err
	}()
	for session.Waiting(s) == 0 {
		time.Sleep(time.Millisecond)
	}
	ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.Run(ictx, uidFetch("10", false)); err != nil {
		t.Fatalf("the inner command: %v", err)
	}
	for {
		_, err := p.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-waiting; err != nil {
		t.Fatalf("the waiting command: %v", err)
	}
}

// TestUntoldNotPipelined: Dovecot runs pipelined SEARCH commands in
// parallel and answers them with all their "* SEARCH" lines first, then
// all their tagged OKs; nothing in a SEARCH response names its command,
// so the oldest took every answer. The server here answers every command
// it has read so far that way. Commands that take such untagged data
// (SEARCH, SORT, LIST, MYRIGHTS, ...) are no longer pipelined with others
// of their kind, with or without their own Want: each gets its own
// answer. Commands of other kinds (a NOOP, a SEARCH beside a MYRIGHTS)
// still pipeline.
func TestUntoldNotPipelined(t *testing.T) {
	var mu sync.Mutex
	batches := []int{} // how many commands the server read at once
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		for {
			var tags, data []string
			for len(tags) == 0 || r.Buffered() > 0 {
				l := readLine(r)
				if l == "" {
					return
				}
				tag, cmd, _ := strings.Cut(l, " ")
				tags = append(tags, tag)
				switch {
				case strings.HasPrefix(cmd, "UID SEARCH UID "):
					data = append(data, "* SEARCH "+strings.TrimPrefix(cmd, "UID SEARCH UID "))
				case strings.HasPrefix(cmd, "STATUS "):
					data = append(data, "* STATUS "+strings.Fields(cmd)[1]+" (MESSAGES 1)")
				case strings.HasPrefix(cmd, "LIST "):
					data = append(data, `* LIST () "/" a`, "* STATUS a (MESSAGES 2)")
				case strings.HasPrefix(cmd, "MYRIGHTS "):
					data = append(data, "* MYRIGHTS "+strings.TrimPrefix(cmd, "MYRIGHTS ")+" r"+strings.TrimPrefix(cmd, "MYRIGHTS "))
				}
			}
			mu.Lock()
			batches = append(batches, len(tags))
			mu.Unlock()
			for _, d := range data {
				io.WriteString(w, d+"\r\n")
			}
			for _, tag := range tags {
				io.WriteString(w, tag+" OK done\r\n")
			}
		}
	})
	s := openDefaults(t, conn, nil)
	ctx := hangCtx(t)
	if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }}); err != nil {
		t.Fatal(err)
	}
	cmds := []*session.Command{{Name: "NOOP"}}
	for _, n := range []string{"1", "6", "10"} {
		cmds = append(cmds, &session.Command{Name: "UID SEARCH", Args: func(e *wire.Encoder) { e.SP().Atom("UID").SP().Atom(n) }},
			&session.Command{Name: "MYRIGHTS", Args: func(e *wire.Encoder) { e.SP().Atom("m" + n) }})
	}
	got := batchData(t, ctx, s, cmds, showAnswer)[1:] // the NOOP's none
	if g, want := strings.Join(got, " | "), "[1] | m1 rm1 | [6] | m6 rm6 | [10] | m10 rm10"; g != want {
		t.Fatalf("answers %s; want %s", g, want)
	}
	// Commands with their own Want are kept apart as well: a Want may
	// take anything (commands.Client.Do's does).
	wantSearch := func(n string) *session.Command {
		return &session.Command{Name: "UID SEARCH", Args: func(e *wire.Encoder) { e.SP().Atom("UID").SP().Atom(n) },
			Want: func(r codec.Response) bool {
				_, ok := r.(*codec.Search)
				return ok
			}}
	}
	if g := strings.Join(batchData(t, ctx, s, []*session.Command{wantSearch("7"), wantSearch("8")}, showAnswer), " | "); g != "[7] | [8]" {
		t.Errorf("UID SEARCH with Want got %s; want [7] | [8]", g)
	}
	// STATUS commands go by their mailboxes, and pipeline; a LIST that
	// takes STATUS responses (LIST-STATUS) does not go beside them.
	status := func(mb string) *session.Command {
		return &session.Command{Name: "STATUS", Args: func(e *wire.Encoder) { e.SP().Mailbox(mb).SP().Raw("(MESSAGES)") }}
	}
	counts := batchData(t, ctx, s, []*session.Command{status("a"), status("b"),
		{Name: "LIST", Args: func(e *wire.Encoder) { e.SP().Raw(`"" a RETURN (STATUS (MESSAGES))`) }}}, func(d codec.Response) string {
		if _, ok := d.(*codec.List); ok {
			return "" // shown by its STATUS
		}
		return showAnswer(d)
	})
	if g := strings.Join(counts, " | "); g != "a 1 | b 1 | a 2" {
		t.Errorf("STATUS answers %s; want a 1 | b 1 | a 2", g)
	}
	mu.Lock()
	defer mu.Unlock()
	// SELECT; NOOP, SEARCH and MYRIGHTS (kinds apart) in one write; the
	// later SEARCH and MYRIGHTS pairs go together or apart, as their
	// turns come; the two commands with Want one after the other; the
	// two STATUS together; the LIST alone.
	n := len(batches)
	if n < 6 || fmt.Sprint(batches[:2], batches[n-4:]) != "[1 3] [1 1 2 1]" {
		t.Errorf("the server read %v commands at a time; want [1 3 ... 1 1 2 1]", batches)
	}
}

// TestCatchAllWantTakesOnlyUnclaimed: a command whose Want takes what its
// rules do not (commands.Client.Do, the NOOP that stands for IDLE on a
// server without it) was the oldest command that wanted the answers of
// the commands pipelined after it, and took them: a SEARCH beside a
// polling NOOP came back empty. It now gets only what no other command
// wants.
func TestCatchAllWantTakesOnlyUnclaimed(t *testing.T) {
	got := pairAnswers(t, "IMAP4rev1", func(noop, search string) string {
		return "* SEARCH 2\r\n* 21 EXISTS\r\n" + search + " OK done\r\n" + noop + " OK done\r\n"
	}, []*session.Command{
		{Name: "NOOP", Want: func(codec.Response) bool { return true }},
		{Name: "UID SEARCH", Args: func(e *wire.Encoder) { e.SP().Atom("ALL") }},
	}, codec.ResponseName)
	if got != "EXISTS | SEARCH" {
		t.Fatalf("the NOOP and the SEARCH got %s; want EXISTS | SEARCH", got)
	}
}

// TestVanishedEarlierBySet: two UID FETCH ... (CHANGEDSINCE 1 VANISHED)
// with sets apart are pipelined; each VANISHED (EARLIER) goes to the one
// whose set holds its UIDs, whatever the order they come in (it went to
// the oldest).
func TestVanishedEarlierBySet(t *testing.T) {
	fetch := func(set string) *session.Command {
		return &session.Command{Name: "UID FETCH", Args: func(e *wire.Encoder) {
			e.SP().Raw(set).SP().Raw("(FLAGS) (CHANGEDSINCE 1 VANISHED)")
		}}
	}
	got := pairAnswers(t, "IMAP4rev1 QRESYNC", func(t1, t2 string) string {
		return "* VANISHED (EARLIER) 12:13\r\n* VANISHED (EARLIER) 3\r\n" + t1 + " OK done\r\n" + t2 + " OK done\r\n"
	}, []*session.Command{fetch("1:5"), fetch("10:15")}, func(r codec.Response) string {
		return r.(*codec.Vanished).UIDs.String()
	})
	if got != "3 | 12:13" {
		t.Fatalf("VANISHED (EARLIER) went %s; want 3 | 12:13", got)
	}
}

// pairAnswers opens a session (the defaults) on a scripted server that
// announces caps and, after SELECT, reads two commands and then writes
// answer(tag1, tag2). It sends cmds (two) in one batch and returns the
// untagged data each got, each response shown by show, "+" between
// responses and " | " between commands.
func pairAnswers(t *testing.T, caps string, answer func(t1, t2 string) string, cmds []*session.Command, show func(codec.Response) string) string {
	t.Helper()
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY "+caps+"] hi\r\n")
		readCommand(r, w) // SELECT
		io.WriteString(w, "* 20 EXISTS\r\nA1 OK selected\r\n")
		t1 := strings.Fields(readCommand(r, w))[0]
		t2 := strings.Fields(readCommand(r, w))[0]
		io.WriteString(w, answer(t1, t2))
		io.Copy(io.Discard, r)
	})
	s := openDefaults(t, conn, nil)
	ctx := hangCtx(t)
	if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }}); err != nil {
		t.Fatal(err)
	}
	return strings.Join(batchData(t, ctx, s, cmds, show), " | ")
}

// batchData starts cmds in one batch, waits for each, and returns the
// untagged data each got, each response shown by show (those shown as ""
// left out), joined by "+".
func batchData(t *testing.T, ctx context.Context, s *session.Session, cmds []*session.Command, show func(codec.Response) string) []string {
	t.Helper()
	ps, err := s.StartBatch(ctx, cmds)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		r, err := p.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var each []string
		for _, d := range r.Data {
			if v := show(d); v != "" {
				each = append(each, v)
			}
		}
		got = append(got, strings.Join(each, "+"))
	}
	return got
}

// showAnswer shows a SEARCH, MYRIGHTS or STATUS response by its values,
// another by its type.
func showAnswer(d codec.Response) string {
	switch d := d.(type) {
	case *codec.Search:
		return fmt.Sprint(d.Nums)
	case *codec.MyRights:
		return string(d.Mailbox) + " " + string(d.Rights)
	case *codec.MailboxStatus:
		return string(d.Mailbox) + " " + fmt.Sprint(d.Messages)
	}
	return fmt.Sprintf("%T", d)
}

// TestWaitQueueStress runs commands that run alone (SELECT), commands
// that use sequence numbers (FETCH), others (NOOP) and IDLE from eight
// goroutines for half a second, against a server that answers each at
// once. Nothing may deadlock, every command runs, the queue of waiting
// commands is empty at the end, and the session still works.
// (TestWaitQueueModel checks the queue with departures in any order, as
// contexts that end make them; contexts are not cut here, since one that
// ends while its command is written aborts the session, by design.)
func TestWaitQueueStress(t *testing.T) {
	// The drain stops after the server has (cleanups run last first).
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	got := make(chan string, 64)
	conn := idleFake(t, got)
	go func() {
		for {
			select {
			case <-got:
			case <-stop:
				return
			}
		}
	}()
	s := openDefaults(t, conn, nil)
	ctx := hangCtx(t)
	deadline := time.Now().Add(500 * time.Millisecond)
	var wg sync.WaitGroup
	var ran atomic.Int64
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				var cmd *session.Command
				switch (g + i) % 4 {
				case 0:
					cmd = &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }}
				case 1:
					cmd = &session.Command{Name: "FETCH", AnyState: true, Args: func(e *wire.Encoder) { e.SP().Raw("1:*").SP().Raw("(FLAGS)") }}
				case 2:
					cmd = &session.Command{Name: "NOOP"}
				case 3:
					p, err := s.Start(ctx, &session.Command{Name: "IDLE"})
					if err != nil {
						t.Errorf("IDLE: %v", err)
						return
					}
					select {
					case <-p.Continuations():
					case <-p.Done():
					}
					if err := p.Continue(ctx, []byte("DONE")); err != nil {
						t.Errorf("DONE: %v", err)
						return
					}
					if _, err := p.Wait(ctx); err != nil {
						t.Errorf("IDLE: %v", err)
						return
					}
					ran.Add(1)
					continue
				}
				if _, err := s.Run(ctx, cmd); err != nil {
					t.Errorf("%s: %v", cmd.Name, err)
					return
				}
				ran.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := session.Waiting(s); n != 0 {
		t.Errorf("%d commands still in the queue of waiting commands", n)
	}
	if t.Failed() {
		t.Logf("%s", fuzzseed.Stacks())
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatalf("NOOP after: %v", err)
	}
	t.Logf("%d commands ran", ran.Load())
}

// TestOverlappingFetchesNotPipelined: untagged FETCH responses carry no
// tag, so two commands that take them for overlapping message sets are
// not pipelined (the second is sent once the first has ended), while
// commands whose sets are apart are. Raw commands (the set read from
// their arguments) and typed ones (Command.Messages) alike; sets with "*"
// and sets of the other kind (UIDs against sequence numbers) count as
// overlapping.
func TestOverlappingFetchesNotPipelined(t *testing.T) {
	raw := func(name, set string) *session.Command {
		return &session.Command{Name: name, Args: func(e *wire.Encoder) { e.SP().Raw(set).SP().Raw("(FLAGS)") }}
	}
	typed := func(name, set string) *session.Command {
		s, err := codec.ParseSeqSet([]byte(set))
		if err != nil {
			t.Fatal(err)
		}
		return &session.Command{Name: name, Messages: &s, Args: func(e *wire.Encoder) { e.SP().Raw(set).SP().Raw("(FLAGS)") }}
	}
	for _, c := range []struct {
		name      string
		a, b      *session.Command
		pipelined bool
	}{
		{"raw overlapping", raw("UID FETCH", "1:5"), raw("UID FETCH", "3:9"), false},
		{"typed overlapping", typed("UID FETCH", "1:5"), typed("UID FETCH", "5"), false},
		{"store and fetch", typed("UID STORE", "4"), raw("UID FETCH", "2:7"), false},
		{"star", raw("UID FETCH", "10:*"), raw("UID FETCH", "1:2"), false},
		{"kinds", raw("UID FETCH", "1:2"), raw("FETCH", "3:4"), false},
		{"raw apart", raw("UID FETCH", "1:2"), raw("UID FETCH", "3:4"), true},
		{"typed apart", typed("UID FETCH", "1,5"), typed("UID FETCH", "2:4"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			lines, answer := make(chan string, 4), make(chan string, 4)
			conn := fake(t, func(r *bufio.Reader, w io.Writer) {
				io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
				go func() {
					defer close(answer)
					for l := readLine(r); l != ""; l = readLine(r) {
						lines <- l
					}
				}()
				for tag := range answer {
					io.WriteString(w, tag+" OK done\r\n")
				}
			})
			s := openDefaults(t, conn, nil)
			ctx := hangCtx(t)
			next := func() string {
				t.Helper()
				select {
				case l := <-lines:
					tag, rest, _ := strings.Cut(l, " ")
					return tag + " " + strings.Fields(rest)[0]
				case <-ctx.Done():
					t.Fatal("no command came")
					return ""
				}
			}
			sel := make(chan error, 1)
			go func() {
				_, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }})
				sel <- err
			}()
			next()
			answer <- "A1"
			if err := <-sel; err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 2)
			run := func(cmd *session.Command) { _, err := s.Run(ctx, cmd); done <- err }
			go run(c.a)
			if got := next(); got != "A2 "+strings.Fields(c.a.Name)[0] {
				t.Fatalf("first: %q", got)
			}
			go run(c.b)
			var second string
			select {
			case l := <-lines:
				second = l
			case <-time.After(200 * time.Millisecond):
			}
			if pipelined := second != ""; pipelined != c.pipelined {
				t.Fatalf("the second command was sent before the first ended: %v, want %v", pipelined, c.pipelined)
			}
			answer <- "A2"
			if second == "" {
				next()
			}
			answer <- "A3"
			for range 2 {
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestCloseUnderLoad ends a session while eight goroutines run SELECT,
// FETCH, NOOP and IDLE on it (and pulled FETCHes of a 70,000-byte body
// streamed to the caller, read in part or not at all), by Close in even
// rounds and by the server hanging up in odd ones: every call returns,
// with an error once the session has ended, and none is left waiting (the
// package's leak check looks for goroutines left after the tests).
func TestCloseUnderLoad(t *testing.T) {
	for round := range 6 {
		stop, hang := make(chan struct{}), make(chan struct{})
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n")
			lines := lineFeed(r, stop)
			for {
				var l string
				select {
				case <-hang:
					return // the fake closes the connection
				case l = <-lines:
				}
				if l == "" {
					return
				}
				tag, cmd, _ := strings.Cut(l, " ")
				cmd, _, _ = strings.Cut(cmd, " ")
				switch cmd {
				case "IDLE":
					io.WriteString(w, "+ idling\r\n")
					select {
					case <-hang:
						return
					case l = <-lines:
					}
					if l != "DONE" {
						return
					}
					io.WriteString(w, tag+" OK idle done\r\n")
				case "FETCH":
					// A body large enough to be streamed to a pulled
					// caller.
					io.WriteString(w, "* 1 FETCH (UID 1 BODY[] {70000}\r\n"+strings.Repeat("b", 70000)+")\r\n* 2 FETCH (UID 2 FLAGS ())\r\n"+tag+" OK done\r\n")
				case "UID":
					io.WriteString(w, "* 1 FETCH (UID 1 FLAGS ())\r\n"+tag+" OK done\r\n")
				default:
					io.WriteString(w, tag+" OK done\r\n")
				}
			}
		})
		s := openDefaults(t, conn, nil)
		ctx := hangCtx(t)
		if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					var err error
					switch (g + i) % 5 {
					case 0:
						_, err = s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }})
					case 1:
						_, err = s.Run(ctx, &session.Command{Name: "UID FETCH", Args: func(e *wire.Encoder) { e.SP().Raw(strconv.Itoa(g + 1)).SP().Raw("(FLAGS)") }})
					case 2:
						_, err = s.Run(ctx, &session.Command{Name: "NOOP"})
					case 3:
						var p *session.Pending
						if p, err = s.Start(ctx, &session.Command{Name: "FETCH", Pull: true, Args: func(e *wire.Encoder) { e.SP().Raw("1:*").SP().Raw("(BODY.PEEK[])") }}); err == nil {
							if i%2 == 0 {
								// The streamed body, read in part.
								var it session.Item
								if it, err = p.Next(ctx); err == io.EOF {
									err = nil
								} else if err == nil && it.Body != nil {
									io.CopyN(io.Discard, it.Body, 30000)
								}
							}
							if err == nil {
								_, err = p.Wait(ctx)
							}
						}
					case 4:
						var p *session.Pending
						if p, err = s.Start(ctx, &session.Command{Name: "IDLE"}); err == nil {
							select {
							case <-p.Continuations():
								err = p.Continue(ctx, []byte("DONE"))
							case <-p.Done():
							}
							if err == nil {
								_, err = p.Wait(ctx)
							}
						}
					}
					if err != nil {
						if s.Err() == nil {
							t.Errorf("round %d: %v before Close", round, err)
						}
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(20+round*20) * time.Millisecond)
		if round%2 == 0 {
			s.Close()
		} else {
			close(hang)
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: calls still running 10 s after Close:\n%s", round, fuzzseed.Stacks())
		}
		close(stop)
	}
}

// TestFetchWantTakesUnclaimedFetch: a UID FETCH whose own Want
// takes every response (imapkit idle --new's, the shell's, Do's) gets the
// flag changes another client made that come with its answer (FLAGS alone,
// or a UID its set does not hold), in order with its answer, when no other
// command's set holds them; without Want they stay unsolicited, and a
// command's own answers still go by set to the command pipelined beside it.
// They went to the unsolicited stream, which imapkit idle never read: the
// flag change was never printed.
func TestFetchWantTakesUnclaimedFetch(t *testing.T) {
	fetch := func(set string, want bool) *session.Command {
		c := &session.Command{Name: "UID FETCH", Args: func(e *wire.Encoder) { e.SP().Raw(set).SP().Raw("(UID FLAGS)") }}
		if want {
			c.Want = func(r codec.Response) bool {
				_, cont := r.(*codec.Continuation)
				return !cont
			}
		}
		return c
	}
	show := func(r codec.Response) string {
		if f, ok := r.(*codec.Fetch); ok {
			return fmt.Sprintf("%d/%d", f.Seq, f.UID)
		}
		return codec.ResponseName(r)
	}
	answer := func(t1, t2 string) string {
		return "* 1 FETCH (UID 1 FLAGS ())\r\n* 7 FETCH (FLAGS (\\Seen))\r\n* 10 FETCH (UID 10 FLAGS ())\r\n" +
			"* 8 FETCH (UID 30 FLAGS (\\Seen))\r\n* 3 EXPUNGE\r\n" + t1 + " OK done\r\n" + t2 + " OK done\r\n"
	}
	got := pairAnswers(t, "IMAP4rev1", answer, []*session.Command{fetch("1:5", false), fetch("10:15", true)}, show)
	if want := "1/1 | 7/0+10/10+8/30+EXPUNGE"; got != want {
		t.Errorf("UID FETCH without Want, UID FETCH with a Want of everything: got %s; want %s", got, want)
	}
	got = pairAnswers(t, "IMAP4rev1", answer, []*session.Command{fetch("1:5", false), fetch("10:15", false)}, show)
	if want := "1/1 | 10/10"; got != want {
		t.Errorf("two UID FETCH without Want: got %s; want %s (the flag changes unsolicited)", got, want)
	}
}

// TestWantFallbackUnannounced: a FETCH no command's set holds now goes
// to a FETCH command whose own Want takes it (targetLocked's fallback)
// instead of the unsolicited stream. countLocked then charges that command
// for a message above the count: a Want'd FETCH 1:5 whose own answers are
// all in order ends with an *UnannouncedError because of another message's
// stray FETCH, which without Want (or before the fallback) was only counted
// by Session.Unannounced.
func TestWantFallbackUnannounced(t *testing.T) {
	run := func(want bool) error {
		conn := fake(t, func(r *bufio.Reader, w io.Writer) {
			io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
			readCommand(r, w) // SELECT
			io.WriteString(w, "* 20 EXISTS\r\nA1 OK selected\r\n")
			tag := strings.Fields(readCommand(r, w))[0]
			io.WriteString(w, "* 1 FETCH (FLAGS ())\r\n* 25 FETCH (FLAGS (\\Seen))\r\n"+tag+" OK done\r\n")
			io.Copy(io.Discard, r)
		})
		s := openDefaults(t, conn, nil)
		ctx := hangCtx(t)
		if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }}); err != nil {
			t.Fatal(err)
		}
		cmd := &session.Command{Name: "FETCH", Args: func(e *wire.Encoder) { e.SP().Raw("1:5").SP().Raw("(FLAGS)") }}
		if want {
			cmd.Want = func(r codec.Response) bool { _, c := r.(*codec.Continuation); return !c }
		}
		_, err := s.Run(ctx, cmd)
		return err
	}
	if err := run(false); err != nil {
		t.Fatalf("FETCH 1:5 without Want: %v", err)
	}
	if err := run(true); err != nil {
		t.Errorf("FETCH 1:5 with a Want of everything: %v; want nil, as without Want (the stray FETCH is not its answer)", err)
	}
}

// TestUndecodableBlamedByName: an untagged response that cannot be decoded
// (here an ESEARCH with MIN 0, refused since f858ae2..74a55ee) was
// charged to the oldest command in flight: a NOOP pipelined ahead of a
// SEARCH failed with the decode error, and the SEARCH ended OK with no
// result and no error (a fix helper noticed it). It goes to the oldest
// command that takes responses of that name now: the SEARCH fails, the
// NOOP does not.
func TestUndecodableBlamedByName(t *testing.T) {
	ctx, s := hostileOpen(t, 20*time.Second, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 ESEARCH")
		var tags []string
		for len(tags) < 2 {
			l, err := c.ReadLine()
			if err != nil {
				return err
			}
			tags = append(tags, strings.Fields(l)[0])
		}
		c.Line(`* ESEARCH (TAG "` + tags[1] + `") UID MIN 0`)
		c.Reply(tags[0], "OK noop")
		c.Reply(tags[1], "OK search")
		return c.Serve()
	})
	noop, err := s.Start(ctx, &session.Command{Name: "NOOP"})
	if err != nil {
		t.Fatal(err)
	}
	search, err := s.Start(ctx, &session.Command{Name: "UID SEARCH", AnyState: true, Args: func(e *wire.Encoder) { e.SP().Raw("RETURN (MIN) ALL") }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noop.Wait(ctx); err != nil {
		t.Errorf("NOOP: %v; want OK (the bad ESEARCH is not its answer)", err)
	}
	r, err := search.Wait(ctx)
	var de *codec.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("SEARCH: result %v, error %v; want its answer's *codec.DecodeError", r, err)
	}
}

// TestVanishedEarlierOverlapsProduct: a VANISHED (EARLIER) response is
// routed (routeLocked) by p.set.Overlaps(v.UIDs) for every UID command in
// flight. codec.SeqSet.Overlaps was O(r+q) for canonical sets but fell to
// a nested loop, O(r*q), when either set was not canonical, and a set
// parsed from the server is kept in the order sent: a server that lists
// the expunged UIDs in descending order (q ranges) made the routing cost
// r*q for a command of r ranges. A UID FETCH ... (CHANGEDSINCE m
// VANISHED) of 1,300 ranges (what fits commands' default 8,000-byte set
// of single UIDs) and a 4 MB answer of 500,000 ranges cost seconds where
// the same answer cost ~0.1 s for a one-range command; the decoder's
// default bound allows 1,048,576 ranges per response, and a raw command
// may carry any number of ranges. The routing must cost O(q log r).
//
// What is counted is the work: the range comparisons of the Overlaps
// calls given the answer's q ranges (workhook.RangesCompared), at most
// q*(bits.Len(r)+1) a call (a binary search in the command's ranges for
// each of the answer's: 6,000,000; 5,500,000 counted, where the nested
// loop made 650,000,000), not the time against a one-range command's (x5
// at most), which a loaded machine could stretch. Serial: it sets a hook
// of the process.
func TestVanishedEarlierOverlapsProduct(t *testing.T) {
	const r, q = 1300, 500000
	var v strings.Builder
	v.WriteString("* VANISHED (EARLIER) ")
	for i := q; i > 0; i-- {
		if i != q {
			v.WriteByte(',')
		}
		v.WriteString(strconv.Itoa(2*i + 1000000))
	}
	line := v.String()
	ctx, s := hostileOpen(t, 120*time.Second, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 CONDSTORE QRESYNC")
		cmd, err := c.Until("UID FETCH")
		if err != nil {
			return err
		}
		c.Line(line)
		c.Reply(cmd.Tag, "OK")
		return c.Serve()
	})
	if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Atom("INBOX") }}); err != nil {
		t.Fatal(err)
	}
	var set codec.SeqSet
	for i := 0; i < r; i++ {
		set.AddNum(uint32(2*i + 1))
	}
	var calls, compared atomic.Int64
	t.Cleanup(workhook.RangesCompared.Set(t, func(a, b, n int) {
		if a == q || b == q { // the answer's Overlaps, no other test's
			calls.Add(1)
			compared.Add(int64(n))
		}
	}))
	_, err := s.Run(ctx, &session.Command{Name: "UID FETCH", Messages: &set, Args: func(e *wire.Encoder) {
		e.SP().Raw(set.String()).SP().Raw("(FLAGS) (CHANGEDSINCE 1 VANISHED)")
	}})
	if err != nil {
		t.Fatalf("UID FETCH: %v", err)
	}
	bound := int64(q * (bits.Len(r) + 1))
	t.Logf("command of %d ranges, VANISHED (EARLIER) of %d descending ranges (%d bytes): %d Overlaps, %d range comparisons (bound %d)", r, q, len(line), calls.Load(), compared.Load(), bound)
	if calls.Load() == 0 {
		t.Fatalf("routing the VANISHED (EARLIER) called no Overlaps with its %d ranges: the test measures nothing", q)
	}
	if compared.Load() > bound*calls.Load() {
		t.Errorf("routing a VANISHED (EARLIER) costs O(r*q): %d range comparisons for a command of %d ranges and an answer of %d (4 MB); want at most %d a call (a binary search each)", compared.Load(), r, q, bound)
	}
}
