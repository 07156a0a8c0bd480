package commands_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/transport"
)

// exampleServer is a toy IMAP server for the examples: it answers each
// command whose text (after the tag) starts with a key of answers with the
// lines of its value ("TAG" becomes the command's tag), reads literals, and
// plays IDLE (answering "+", then the lines, then OK after DONE).
func exampleServer(answers map[string]string) net.Conn {
	client, server := transport.Pipe()
	go func() {
		defer server.Close()
		io.WriteString(server, "* OK [CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS MOVE IDLE ESEARCH NOTIFY] toy server ready\r\n")
		r := bufio.NewReader(server)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			for strings.HasSuffix(line, "+}") { // a LITERAL+ literal: skip it
				i := strings.LastIndexByte(line, '{')
				n, _ := strconv.Atoi(line[i+1 : len(line)-2])
				io.CopyN(io.Discard, r, int64(n))
				rest, _ := r.ReadString('\n')
				line = line[:i] + "<literal>" + strings.TrimRight(rest, "\r\n")
			}
			tag, cmd, _ := strings.Cut(line, " ")
			answer := "TAG OK done"
			for k, v := range answers {
				if strings.HasPrefix(cmd, k) {
					answer = v
				}
			}
			if cmd == "IDLE" {
				io.WriteString(server, "+ idling\r\n")
				io.WriteString(server, strings.ReplaceAll(answer, "\n", "\r\n")+"\r\n")
				r.ReadString('\n') // DONE
				io.WriteString(server, tag+" OK IDLE done\r\n")
				continue
			}
			if cmd == "LOGOUT" {
				io.WriteString(server, "* BYE bye\r\n"+tag+" OK bye\r\n")
				return
			}
			io.WriteString(server, strings.ReplaceAll(strings.ReplaceAll(answer, "TAG", tag), "\n", "\r\n")+"\r\n")
		}
	}()
	return client
}

// exampleClient opens a Client on a toy server and logs in.
func exampleClient(ctx context.Context, answers map[string]string) *commands.Client {
	c, err := commands.Open(ctx, exampleServer(answers), nil)
	if err != nil {
		panic(err)
	}
	if err := c.Login(ctx, "alice", "secret"); err != nil {
		panic(err)
	}
	return c
}

// Read the newest unread message: search for unseen messages, fetch the
// last one's envelope and text, and read the text as it streams in.
func Example_readNewestUnread() {
	ctx := context.Background()
	c := exampleClient(ctx, map[string]string{
		"SELECT INBOX":                   "* 3 EXISTS\n* OK [UIDVALIDITY 1] x\nTAG OK [READ-WRITE] selected",
		"UID SEARCH RETURN (MAX) UNSEEN": "* ESEARCH (TAG \"TAG\") UID MAX 42\nTAG OK done",
		"UID FETCH 42": "* 3 FETCH (UID 42 ENVELOPE (\"Mon, 1 Jun 2026 10:00:00 +0000\" \"=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\" ((\"Bob\" NIL \"bob\" \"example.org\")) NIL NIL NIL NIL NIL NIL \"<1@example.org>\") BODY[TEXT] {12}\nHello Alice!)\n" +
			"TAG OK done",
	})
	defer c.Logout(ctx)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		panic(err)
	}
	res, err := c.Search(ctx, &commands.Criteria{NotFlags: []string{`\Seen`}},
		&commands.SearchOptions{UID: true, Return: &commands.SearchReturn{Max: true}})
	if err != nil {
		panic(err)
	}
	for m, err := range c.Fetch(ctx, commands.UIDs(res.Max), &commands.FetchItems{
		Envelope: true, Sections: []commands.FetchSection{commands.TextSection},
	}) {
		if err != nil {
			panic(err)
		}
		if m.Envelope == nil || len(m.Envelope.From) == 0 {
			continue // a flag change another client made meanwhile
		}
		subject, _ := m.Envelope.DecodedSubject()
		text, _ := m.NextSection()
		body, _ := io.ReadAll(text)
		fmt.Printf("%d from %s: %s\n%s\n", m.UID, m.Envelope.From[0].String(), subject, body)
	}
	// Output:
	// 42 from Bob <bob@example.org>: Grüße
	// Hello Alice!
}

// Read a message's text: find its text/plain part in the body structure,
// fetch that part alone, and decode it (its transfer encoding and its
// charset) as it streams in. Part.Decode's reader works on any section,
// however large.
func Example_readText() {
	ctx := context.Background()
	c := exampleClient(ctx, map[string]string{
		"SELECT INBOX": "* 1 EXISTS\nTAG OK [READ-WRITE] selected",
		"UID FETCH 42 (BODYSTRUCTURE)": "* 1 FETCH (UID 42 BODYSTRUCTURE (" +
			"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"ISO-8859-1\") NIL NIL \"QUOTED-PRINTABLE\" 23 1 NIL NIL NIL NIL)" +
			"(\"TEXT\" \"HTML\" (\"CHARSET\" \"UTF-8\") NIL NIL \"BASE64\" 30 1 NIL NIL NIL NIL) \"ALTERNATIVE\" NIL NIL NIL NIL))\n" +
			"TAG OK done",
		"UID FETCH 42 (BODY.PEEK[1])": "* 1 FETCH (UID 42 BODY[1] {23}\nGr=FC=DFe aus K=F6ln!\n)\nTAG OK done",
	})
	defer c.Logout(ctx)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		panic(err)
	}
	var structure *codec.BodyStructure
	for m, err := range c.Fetch(ctx, commands.UIDs(42), &commands.FetchItems{BodyStructure: true}) {
		if err != nil {
			panic(err)
		}
		structure = m.BodyStructure
	}
	path, part := structure.TextPart("plain")
	if part == nil {
		return // no plain text: try "html"
	}
	for m, err := range c.Fetch(ctx, commands.UIDs(42), &commands.FetchItems{
		Sections: []commands.FetchSection{{Part: path}},
	}) {
		if err != nil {
			panic(err)
		}
		sec, err := m.NextSection()
		if err != nil {
			panic(err)
		}
		text, err := part.Decode(sec) // quoted-printable, ISO-8859-1 -> UTF-8
		if err != nil {
			panic(err) // an unknown encoding or charset: text still reads the raw part
		}
		io.Copy(os.Stdout, text)
	}
	// Output:
	// Grüße aus Köln!
}

// Search by date and sender.
func Example_searchByDateAndSender() {
	ctx := context.Background()
	c := exampleClient(ctx, map[string]string{
		"SELECT": "* 9 EXISTS\nTAG OK [READ-WRITE] selected",
		`UID SEARCH RETURN (ALL) SINCE 1-May-2026 FROM "bob@example.org"`: "* ESEARCH (TAG \"TAG\") UID ALL 3:5,9\nTAG OK done",
	})
	defer c.Logout(ctx)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		panic(err)
	}
	res, err := c.Search(ctx, &commands.Criteria{
		Since: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC),
		From:  []string{"bob@example.org"},
	}, &commands.SearchOptions{UID: true})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.All.String(), res.Count)
	// Output: 3:5,9 4
}

// Watch every mailbox, not only the selected one: NOTIFY (RFC 5465) asks
// the server to report new mail elsewhere as STATUS responses, and new
// mailboxes as LIST responses, which come to Idle's callback with the
// selected mailbox's own events.
func Example_notify() {
	ctx := context.Background()
	c := exampleClient(ctx, map[string]string{
		"SELECT INBOX": "* 3 EXISTS\nTAG OK [READ-WRITE] selected",
		"NOTIFY SET":   "TAG OK notifying",
		"IDLE": "* STATUS Lists (MESSAGES 11 UNSEEN 4)\n" +
			"* LIST () \"/\" Projects\n" +
			"* 4 EXISTS",
	})
	defer c.Logout(ctx)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		panic(err)
	}
	msgs := commands.NotifyMessageNew | commands.NotifyMessageExpunge
	if _, err := c.Notify(ctx, nil,
		commands.NotifyGroup{Filter: commands.NotifySelected, Events: msgs | commands.NotifyFlagChange},
		commands.NotifyGroup{Filter: commands.NotifyPersonal, Events: msgs | commands.NotifyMailboxName},
	); err != nil {
		panic(err) // commands.ErrUnsupported without NOTIFY: Idle alone watches the selected mailbox
	}
	err := c.Idle(ctx, nil, func(r codec.Response) bool {
		switch r := r.(type) {
		case *codec.MailboxStatus:
			fmt.Printf("%s: %d messages, %d unseen\n", r.Mailbox, r.Messages, r.Unseen)
		case *codec.List:
			fmt.Printf("new mailbox %s\n", r.Mailbox)
		case *codec.Exists:
			fmt.Printf("INBOX: %d messages\n", r.Count)
			return false // enough for the example
		}
		return true
	})
	if err != nil {
		panic(err)
	}
	// Output:
	// Lists: 11 messages, 4 unseen
	// new mailbox Projects
	// INBOX: 4 messages
}

// Move messages: MOVE where the server has it, with the new UIDs.
func Example_move() {
	ctx := context.Background()
	c := exampleClient(ctx, map[string]string{
		"SELECT":               "* 9 EXISTS\nTAG OK [READ-WRITE] selected",
		"UID MOVE 3:5 Archive": "* OK [COPYUID 7 3:5 100:102] moved\n* 3 EXPUNGE\n* 3 EXPUNGE\n* 3 EXPUNGE\nTAG OK done",
	})
	defer c.Logout(ctx)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		panic(err)
	}
	res, err := c.Move(ctx, commands.UIDRange(3, 5), "Archive")
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Src.String(), "->", res.Dst.String())
	// Output: 3:5 -> 100:102
}

// Append a message with flags and a date, streamed from a reader.
func Example_append() {
	ctx := context.Background()
	c := exampleClient(ctx, map[string]string{
		"APPEND Sent": "TAG OK [APPENDUID 7 31] appended",
	})
	defer c.Logout(ctx)
	msg := "From: alice@example.org\r\nSubject: hi\r\n\r\nHello!\r\n"
	res, err := c.Append(ctx, "Sent", strings.NewReader(msg), int64(len(msg)), &commands.AppendOptions{
		Flags: []string{`\Seen`},
		Date:  time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("UID", res.UID)
	// Output: UID 31
}

// Watch a mailbox with IDLE until the server reports a new message.
func Example_idle() {
	ctx := context.Background()
	c := exampleClient(ctx, map[string]string{
		"SELECT": "* 9 EXISTS\nTAG OK [READ-WRITE] selected",
		"IDLE":   "* 10 EXISTS",
	})
	defer c.Logout(ctx)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		panic(err)
	}
	err := c.Idle(ctx, nil, func(r codec.Response) bool {
		if e, ok := r.(*codec.Exists); ok {
			fmt.Println("now", e.Count, "messages")
			return false // stop idling
		}
		return true
	})
	if err != nil {
		panic(err)
	}
	// Output: now 10 messages
}

// New mail as it comes: fetch every message from the next UID on, then
// idle until an EXISTS says the mailbox changed, and again. Fetching by UID
// range (not the sequence number an EXISTS names) catches every message
// it announced, however many; checking the count the session follows
// (Exists) before idling catches one that came while the fetch ran (its
// EXISTS went to the session, between two IDLEs), unless an expunge during
// that fetch hid it, in which case the next event brings it.
func Example_idleFetchNew() {
	ctx := context.Background()
	c := exampleClient(ctx, map[string]string{
		"SELECT":        "* 9 EXISTS\n* OK [UIDNEXT 31] x\nTAG OK [READ-WRITE] selected",
		"IDLE":          "* 10 EXISTS",
		"UID FETCH 31:": "* 10 FETCH (UID 31 ENVELOPE (\"Thu, 3 Dec 2026 10:00:00 +0000\" \"=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\" NIL NIL NIL NIL NIL NIL NIL \"<1@example.org>\"))\nTAG OK done",
	})
	defer c.Logout(ctx)
	st, err := c.Select(ctx, "INBOX", nil)
	if err != nil {
		panic(err)
	}
	next, seen := st.UIDNext, st.Exists  // mail from UID next on is new
	for round := 0; round < 1; round++ { // a real program loops for ever
		if n, _ := c.Exists(); n <= seen {
			err := c.Idle(ctx, nil, func(r codec.Response) bool {
				_, exists := r.(*codec.Exists)
				return !exists // stop at any EXISTS: go and look
			})
			if err != nil {
				panic(err)
			}
		}
		ms, err := c.FetchAll(ctx, commands.UIDRange(next, 0), &commands.FetchItems{UID: true, Envelope: true})
		if err != nil {
			panic(err)
		}
		seen = 0
		for _, m := range ms {
			seen = max(seen, m.SeqNum) // next:* always holds the last message
			if m.UID < next {
				continue // it is not new (next:* names it when none is)
			}
			subject, _ := m.Envelope.DecodedSubject()
			fmt.Println("new: UID", m.UID, subject)
			next = m.UID + 1
		}
	}
	// Output: new: UID 31 Grüße
}

// Sync changes with QRESYNC: from the UIDVALIDITY and HIGHESTMODSEQ saved
// last time, SELECT reports what was expunged and what changed since.
func Example_qresync() {
	ctx := context.Background()
	c := exampleClient(ctx, map[string]string{
		"ENABLE QRESYNC": "* ENABLED QRESYNC\nTAG OK done",
		"SELECT INBOX (QRESYNC (67890007 20050715194045000 41:211))": "* 100 EXISTS\n* OK [UIDVALIDITY 67890007] x\n* OK [HIGHESTMODSEQ 20050715194046000] x\n" +
			"* VANISHED (EARLIER) 41,43:116,118,120:211\n* 49 FETCH (UID 117 FLAGS (\\Seen \\Answered) MODSEQ (20050715194045426))\nTAG OK [READ-WRITE] selected",
	})
	defer c.Logout(ctx)
	if _, err := c.Enable(ctx, "QRESYNC"); err != nil {
		panic(err)
	}
	var known codec.SeqSet
	known.AddRange(41, 211)
	st, err := c.Select(ctx, "INBOX", &commands.SelectOptions{QResync: &commands.QResync{
		UIDValidity: 67890007, ModSeq: 20050715194045000, KnownUIDs: known}})
	if err != nil {
		panic(err)
	}
	if st.UIDValidityChanged {
		// The UIDs kept name other messages now: drop them, fetch the
		// mailbox afresh.
		fmt.Println("start over")
		return
	}
	fmt.Println("expunged:", st.Vanished.String())
	for _, m := range st.Changed {
		fmt.Println("changed:", m.UID, m.Flags)
	}
	// With KnownUIDs, messages that arrived since (UIDs past 211) are not
	// in st.Changed: fetch UIDRange(the UIDNext saved last time, 0) for
	// them. Save UIDNext too.
	fmt.Println("save:", st.UIDValidity, st.HighestModSeq)
	// Output:
	// expunged: 41,43:116,118,120:211
	// changed: 117 [\Seen \Answered]
	// save: 67890007 20050715194046000
}

// The small job of issue 10 (log in, select INBOX, search UNSEEN, fetch
// envelopes, add \Seen, append to Sent), typed, in about 20 lines.
func Example_smallJob() {
	ctx := context.Background()
	conn := exampleServer(map[string]string{
		"SELECT INBOX":                   "* 3 EXISTS\nTAG OK [READ-WRITE] selected",
		"UID SEARCH RETURN (ALL) UNSEEN": "* ESEARCH (TAG \"TAG\") UID ALL 7,9\nTAG OK done",
		"UID FETCH 7,9 (ENVELOPE)":       "* 1 FETCH (UID 7 ENVELOPE (NIL \"=?KOI8-R?B?8NLJ18XU?=\" NIL NIL NIL NIL NIL NIL NIL NIL))\n* 2 FETCH (UID 9 ENVELOPE (NIL \"Hello\" NIL NIL NIL NIL NIL NIL NIL NIL))\nTAG OK done",
		"APPEND Sent":                    "TAG OK [APPENDUID 3 12] done",
	})

	c, err := commands.Open(ctx, conn, nil)
	if err != nil {
		panic(err)
	}
	defer c.Logout(ctx)
	if err := c.Login(ctx, "alice", "secret"); err != nil {
		panic(err)
	}
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		panic(err)
	}
	unseen, err := c.Search(ctx, &commands.Criteria{NotFlags: []string{commands.FlagSeen}}, &commands.SearchOptions{UID: true})
	if err != nil {
		panic(err)
	}
	set := unseen.Set()
	for m, err := range c.Fetch(ctx, set, &commands.FetchItems{Envelope: true}) {
		if err != nil {
			panic(err)
		}
		if m.Envelope == nil {
			continue // a flag change another client made meanwhile
		}
		subject, _ := m.Envelope.DecodedSubject()
		fmt.Println(m.UID, subject)
	}
	if _, err := c.Store(ctx, set, commands.AddFlags, []string{commands.FlagSeen}, &commands.StoreOptions{Silent: true}); err != nil {
		panic(err)
	}
	if _, err := c.AppendBytes(ctx, "Sent", []byte("Subject: hi\r\n\r\nhi\r\n"), &commands.AppendOptions{Flags: []string{commands.FlagSeen}}); err != nil {
		panic(err)
	}
	// Output:
	// 7 Привет
	// 9 Hello
}

// The COPYUID of a copy pairs each source UID with the UID its copy got,
// in the order the server named them.
func ExampleCopyResult_Pairs() {
	src, _ := codec.ParseSeqSet([]byte("7,3:4"))
	dst, _ := codec.ParseSeqSet([]byte("20:22"))
	res := &commands.CopyResult{UIDValidity: 1700000001, Src: src, Dst: dst}
	for s, d := range res.Pairs() {
		fmt.Println(s, "->", d)
	}
	d, ok := res.DstOf(4)
	fmt.Println("4 is now", d, ok)
	// Output:
	// 7 -> 20
	// 3 -> 21
	// 4 -> 22
	// 4 is now 22 true
}
