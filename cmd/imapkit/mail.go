package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	esc "github.com/imapkit/imapkit/internal/printable"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// The commands that talk to a server. Their JSON is documented in
// docs/cli.md: keep the two in step.
var serverCommands = []serverCmd{
	{
		name: "capability", summary: "print the server's capabilities (after login)",
		help: "Log in and print the server's capabilities, one per line.",
		run:  runCapability,
	},
	{
		name: "list", args: "[PATTERN]", max: 1, summary: "list mailboxes (special-use attributes included)",
		help: "List the mailboxes matching PATTERN (default \"*\": all; \"%\" is one level).",
		flags: func(fs *flag.FlagSet) any {
			return fs.Bool("status", false, "also print each mailbox's message and unseen counts (LIST-STATUS)")
		},
		run: runList,
	},
	{
		name: "status", args: "MAILBOX", min: 1, max: 1, summary: "print a mailbox's counts, UIDVALIDITY and UIDNEXT",
		help: "Print the STATUS of MAILBOX: messages, unseen, UIDNEXT, UIDVALIDITY (and size, highest mod-sequence when offered).",
		run:  runStatus,
	},
	{
		name: "search", args: "MAILBOX [CRITERIA...]", min: 1, max: -1, summary: "print the UIDs of the messages matching criteria",
		help: "Print the UIDs of the messages of MAILBOX matching CRITERIA (IMAP search keys, as\n" +
			"imaplib takes them: FROM alice SINCE 1-Feb-2024 UNSEEN; default ALL), one per line.\n" +
			"Each argument is one key or value; values with spaces, quotes or non-ASCII\n" +
			"characters are quoted (or sent as literals, with CHARSET UTF-8) for you.",
		run: runSearch,
	},
	{
		name: "fetch", args: "MAILBOX UID | MAILBOX SET --to DIR", min: 2, max: 2, summary: "write a message, or a section of it, to stdout; or a set of them to files",
		help: "Write the message with UID in MAILBOX (or one section of it) to stdout, as the\n" +
			"server sends it, streamed. With --to DIR, write each message of SET (UIDs such\n" +
			"as 1:5,7,9:*, or sequence numbers with --seq) to DIR/UID.eml instead, streamed\n" +
			"into a temporary file and renamed when whole; --json prints a line per message.\n" +
			"With --text, print the message's text instead: its text/plain part (else its\n" +
			"text/html part), its transfer encoding and charset decoded to UTF-8, for\n" +
			"reading: LF line ends, other control characters shown as '?'. --parts lists\n" +
			"the message's parts (number, type, size, encoding, charset, file name);\n" +
			"--section N --decode writes part N with its transfer encoding undone (an\n" +
			"attachment's bytes).\n" +
			"The messages are not marked \\Seen.\n" + stdinSetHelp,
		flags: fetchFlags,
		check: checkFetch,
		run:   runFetch,
	},
	{
		name: "append", args: "MAILBOX [FILE|-]", min: 1, max: 2, summary: "append a message from a file or stdin",
		help:  "Append the message in FILE (or stdin) to MAILBOX, byte for byte, and print its UID.",
		flags: appendFlags,
		run:   runAppend,
	},
	{
		name: "idle", args: "MAILBOX", min: 1, max: 1, summary: "print a mailbox's events (new mail, expunges, flags) as they come",
		help: "Select MAILBOX read-only and print the server's events (EXISTS, EXPUNGE, FETCH\n" +
			"flag changes, VANISHED, alerts) until --for has passed or the command is interrupted.\n" +
			"With --new, each new message's UID, sender and subject follow its EXISTS\n" +
			"(fetched on the same connection: IDLE pauses for it). With --notify (servers\n" +
			"with NOTIFY, RFC 5465), the user's other mailboxes are watched too: their\n" +
			"new and expunged mail as a mailbox line with its counts, mailboxes created,\n" +
			"renamed and deleted as a list line.",
		flags: func(fs *flag.FlagSet) any {
			return &idleFlags{
				d:      fs.Duration("for", 0, "stop after this long (default: until interrupted)"),
				newMsg: fs.Bool("new", false, "fetch and print each new message's UID, sender and subject"),
				notify: fs.Bool("notify", false, "also watch the user's other mailboxes (NOTIFY)"),
			}
		},
		run: runIdle,
	},
	headersCommand,
	importCommand,
	probeCommand,
	selectCommand,
	examineCommand,
	lsubCommand,
	createCommand,
	deleteCommand,
	renameCommand,
	subscribeCommand,
	unsubscribeCommand,
	namespaceCommand,
	storeCommand,
	cpCommand,
	mvCommand,
	expungeCommand,
	quotaCommand,
	quotaRootCommand,
	setQuotaCommand,
	aclCommand,
	metadataCommand,
	annotationCommand,
	idCommand,
	rawCommand,
	shellCommand,
}

func runCapability(ctx context.Context, cn *conn, _ []string, _ any, o *output) error {
	caps, err := cn.c.Capability(ctx)
	if err != nil {
		return err
	}
	if o.json {
		return o.emit(struct {
			Capabilities []string `json:"capabilities"`
		}{nonNil(caps)})
	}
	for _, c := range caps {
		fmt.Fprintln(o.stdout, c)
	}
	return nil
}

// jsonMailbox is one mailbox of list --json and lsub --json.
type jsonMailbox struct {
	Name string `json:"name"`
	// NameBase64 is the name's bytes as the server sent them (base64),
	// only when Name does not give them back (nameAsSent).
	NameBase64 string   `json:"name_base64,omitempty"`
	Delimiter  string   `json:"delimiter"`
	Attributes []string `json:"attributes"`
	Messages   *uint32  `json:"messages,omitempty"`
	Unseen     *uint32  `json:"unseen,omitempty"`
}

// listedMailbox is b as list --json and lsub --json print it; utf8 tells
// whether names come in UTF-8 (UTF8=ACCEPT enabled).
func listedMailbox(b *commands.MailboxInfo, utf8 bool) jsonMailbox {
	return jsonMailbox{Name: b.Name, NameBase64: nameAsSent(b.Name, b.Raw, utf8),
		Delimiter: b.Delim, Attributes: nonNil(b.Attrs)}
}

// nameAsSent returns raw, a mailbox name as the server sent it, in base64
// when name, what it decodes to, does not give it back, and "" when it
// does: a name that is not UTF-8 (raw Latin-1 "Caf\xe9", which JSON
// would carry as "Caf\ufffd"), that holds a NUL or another C0 control
// (which no command takes from a user), or that does not encode back to
// raw (modified UTF-7 a server broke, "&Jjo"; a name a client that does
// not encode made, "R&D", which decodes as "R&-D" does). utf8 tells
// whether names go as UTF-8 (then a name goes as it is) or in modified
// UTF-7.
func nameAsSent(name string, raw []byte, utf8 bool) string {
	if commands.CheckMailboxName(name) == nil {
		wire := name
		if !utf8 {
			wire = codec.EncodeMailbox(name)
		}
		if wire == string(raw) {
			return ""
		}
	}
	return base64.StdEncoding.EncodeToString(raw)
}

func runList(ctx context.Context, cn *conn, args []string, own any, o *output) error {
	pattern := "*"
	if len(args) > 0 {
		pattern = args[0]
	}
	s := cn.c.Session()
	opts := &commands.ListOptions{ReturnSpecialUse: s.HasCap("SPECIAL-USE") || s.HasCap("IMAP4rev2")}
	withStatus := *own.(*bool)
	if withStatus {
		if !s.HasCap("LIST-STATUS") && !s.HasCap("IMAP4rev2") {
			return fmt.Errorf("--status: the server does not offer LIST-STATUS: %w", commands.ErrUnsupported)
		}
		opts.ReturnStatus = commands.StatusMessages | commands.StatusUnseen
	}
	boxes, err := cn.c.List(ctx, pattern, opts)
	if err != nil {
		return err
	}
	tw := o.table()
	if !o.json {
		if withStatus {
			fmt.Fprintln(tw, "MAILBOX\tMESSAGES\tUNSEEN\tATTRIBUTES")
		} else {
			fmt.Fprintln(tw, "MAILBOX\tATTRIBUTES")
		}
	}
	for _, b := range boxes {
		if o.json {
			m := listedMailbox(b, s.UTF8Enabled())
			if b.Status != nil {
				m.Messages, m.Unseen = &b.Status.Messages, &b.Status.Unseen
			}
			if err := o.emit(m); err != nil {
				return err
			}
			continue
		}
		if withStatus {
			var n, u uint32
			if b.Status != nil {
				n, u = b.Status.Messages, b.Status.Unseen
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", printable(b.Name), n, u, printable(strings.Join(b.Attrs, " ")))
		} else {
			fmt.Fprintf(tw, "%s\t%s\n", printable(b.Name), printable(strings.Join(b.Attrs, " ")))
		}
	}
	return tw.Flush()
}

// jsonStatus is status --json.
type jsonStatus struct {
	Mailbox       string  `json:"mailbox"`
	Messages      uint32  `json:"messages"`
	Unseen        uint32  `json:"unseen"`
	UIDNext       uint32  `json:"uidnext"`
	UIDValidity   uint32  `json:"uidvalidity"`
	Size          *uint64 `json:"size,omitempty"`
	HighestModSeq *uint64 `json:"highestmodseq,omitempty"`
}

func runStatus(ctx context.Context, cn *conn, args []string, _ any, o *output) error {
	s := cn.c.Session()
	items := commands.StatusMessages | commands.StatusUnseen | commands.StatusUIDNext | commands.StatusUIDValidity
	if s.HasCap("STATUS=SIZE") || s.HasCap("IMAP4rev2") {
		items |= commands.StatusSize
	}
	if s.HasCap("CONDSTORE") || s.HasCap("QRESYNC") {
		items |= commands.StatusHighestModSeq
	}
	st, err := cn.c.Status(ctx, args[0], items)
	if err != nil {
		return err
	}
	j := jsonStatus{Mailbox: st.Name, Messages: st.Messages, Unseen: st.Unseen, UIDNext: st.UIDNext, UIDValidity: st.UIDValidity}
	if st.Has(commands.StatusSize) {
		j.Size = &st.Size
	}
	if st.Has(commands.StatusHighestModSeq) {
		j.HighestModSeq = &st.HighestModSeq
	}
	if o.json {
		return o.emit(j)
	}
	tw := o.table()
	fmt.Fprintf(tw, "mailbox\t%s\n", printable(j.Mailbox))
	fmt.Fprintf(tw, "messages\t%d\n", j.Messages)
	fmt.Fprintf(tw, "unseen\t%d\n", j.Unseen)
	fmt.Fprintf(tw, "uidnext\t%d\n", j.UIDNext)
	fmt.Fprintf(tw, "uidvalidity\t%d\n", j.UIDValidity)
	if j.Size != nil {
		fmt.Fprintf(tw, "size\t%d\n", *j.Size)
	}
	if j.HighestModSeq != nil {
		fmt.Fprintf(tw, "highestmodseq\t%d\n", *j.HighestModSeq)
	}
	return tw.Flush()
}

func runSearch(ctx context.Context, cn *conn, args []string, _ any, o *output) error {
	if _, err := cn.c.Examine(ctx, args[0]); err != nil {
		return err
	}
	uids, err := searchUIDs(ctx, cn.c, args[1:])
	if err != nil {
		return err
	}
	// Written as they are listed, not listed first: the answer's size
	// is the server's to choose (searchUIDs).
	w := bufio.NewWriter(o.stdout)
	if o.json {
		var name strings.Builder // as output.emit writes it
		enc := json.NewEncoder(&name)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(args[0]); err != nil {
			return err
		}
		fmt.Fprintf(w, `{"mailbox":%s,"uids":[`, escapeUnsafe([]byte(strings.TrimSuffix(name.String(), "\n"))))
	}
	first := true
	for u := range uids.All {
		switch {
		case !o.json:
			fmt.Fprintln(w, u)
		case first:
			fmt.Fprint(w, u)
		default:
			fmt.Fprintf(w, ",%d", u)
		}
		first = false
	}
	if o.json {
		fmt.Fprintln(w, "]}")
	}
	return w.Flush()
}

// searchUIDs sends UID SEARCH with criteria given as command-line
// arguments and returns the UIDs as a set, in canonical (ascending) form:
// ranges, not a list of every number, so that an answer of a few bytes
// ("ALL 1:4294967295") costs what it weighs (listed, 8,000,000 UIDs took
// 121 MiB before a message was fetched, and that range 16 GiB).
func searchUIDs(ctx context.Context, c *commands.Client, criteria []string) (codec.SeqSet, error) {
	if len(criteria) == 0 {
		criteria = []string{"ALL"}
	}
	charset := false
	for _, a := range criteria {
		for i := 0; i < len(a); i++ {
			if a[i] >= 0x80 {
				charset = !c.Session().UTF8Enabled()
			}
		}
		if !utf8.ValidString(a) {
			return codec.SeqSet{}, usagef("search: %q is not UTF-8", a)
		}
		if _, ok := unquoteIMAP(a); !ok && strings.HasPrefix(a, `"`) {
			return codec.SeqSet{}, usagef(`search: %q starts with a double quote but is no complete quoted string (a value in quotes, as imaplib takes it, ends with the one unescaped " and has \\ and \" for \ and " inside; a value without quotes is quoted for you)`, a)
		}
	}
	r, err := c.Do(ctx, "UID SEARCH", func(e *wire.Encoder) {
		if charset {
			e.SP().Atom("CHARSET").SP().Atom("UTF-8")
		}
		values, flag := 0, false // what the last key takes
		for _, a := range criteria {
			e.SP()
			v, quoted := unquoteIMAP(a)
			switch {
			case quoted:
				e.String(v)
			case values > 0:
				e.String(a)
			case flag:
				e.Atom(a)
			case searchAtom(a):
				e.Raw(a)
			default:
				e.String(a)
			}
			switch {
			case values > 0:
				values--
			case flag:
				flag = false
			case !quoted:
				values = searchValueKeys[strings.ToUpper(a)]
				flag = searchFlagKeys[strings.ToUpper(a)]
			}
		}
	})
	if err != nil {
		return codec.SeqSet{}, err
	}
	// The numbers and ranges of every response are gathered and added in
	// one sort (codec.SeqSet.AddNum, AddRanges): added one at a time, a
	// server listing them in descending order made each go in at the
	// front of the set, shifting all the others (O(n^2): 400,000 UIDs
	// took 41 s, and the decoder's bounds allow a million ranges).
	var nums []uint32
	var all []wire.SeqRange
	own, other := false, false
	for _, d := range r.Data {
		switch v := d.(type) {
		case *codec.Search:
			own = true
			nums = append(nums, v.Nums...)
		case *codec.ESearch:
			// Only its own: Do takes every untagged response, and an
			// ESEARCH tagged for another command, or one of sequence
			// numbers (no UID indicator) that names messages, is no
			// answer of this UID SEARCH (RFC 4731 section 3.1; as
			// commands.Client.Search's searchWatch). Taken, its numbers
			// were UIDs to export or copy that were never there, and
			// the state moved past them.
			if !v.Answers(r.Tag, true) {
				other = true
				continue
			}
			own = true
			for _, r := range v.All.Ranges() {
				if r.Start != 0 && r.Stop != 0 { // no "*" in an answer
					all = append(all, r)
				}
			}
		}
	}
	if other && !own {
		// Another's came instead: this one's answer may have been
		// misdirected, so nothing is known of the matches, not "none".
		return codec.SeqSet{}, &commands.MissingError{Command: "UID SEARCH", Response: "ESEARCH"}
	}
	var uids codec.SeqSet
	uids.AddNum(nums...)
	uids.AddRanges(all...)
	uids.Compact()
	return uids, nil
}

// A uidQueue hands out the UIDs of a set above a bound in ascending
// order, a batch at a time, holding the set's ranges, never a list of all
// its numbers (searchUIDs).
type uidQueue struct {
	r    []wire.SeqRange // canonical ranges; r[i] from next on is left
	i    int
	next uint32
	left uint64   // numbers left in r
	back []uint32 // put back (unshift), handed out first
}

// newUIDQueue returns the queue of the UIDs of s (canonical) above after.
func newUIDQueue(s codec.SeqSet, after uint32) *uidQueue {
	q := &uidQueue{}
	for _, r := range s.Ranges() {
		if r.Stop <= after {
			continue
		}
		r.Start = max(r.Start, after+1)
		q.r = append(q.r, r)
		q.left += uint64(r.Stop-r.Start) + 1
	}
	if len(q.r) > 0 {
		q.next = q.r[0].Start
	}
	return q
}

// len returns how many UIDs are left (at most math.MaxInt).
func (q *uidQueue) len() int {
	return int(min(q.left+uint64(len(q.back)), uint64(math.MaxInt)))
}

// take removes and returns the next n UIDs at most (none when empty).
func (q *uidQueue) take(n int) []uint32 {
	out := make([]uint32, 0, min(n, q.len()))
	for len(out) < n && len(q.back) > 0 {
		out = append(out, q.back[0])
		q.back = q.back[1:]
	}
	for len(out) < n && q.i < len(q.r) {
		out = append(out, q.next)
		q.left--
		if q.next == q.r[q.i].Stop {
			if q.i++; q.i < len(q.r) {
				q.next = q.r[q.i].Start
			}
			continue
		}
		q.next++
	}
	return out
}

// unshift puts uids (ascending, below those left) back at the head.
func (q *uidQueue) unshift(uids []uint32) {
	q.back = append(slices.Clip(uids), q.back...)
}

// unquoteIMAP returns the value of a when a is a complete IMAP quoted
// string (RFC 9051 section 4.3): a double quote, characters other than
// " and \ or those two escaped with a backslash, and a closing double
// quote that ends a. imaplib sends its criteria as written, so its users
// quote a value that way ("C:\\temp" for C:\temp); search sends the
// value, so that the server searches for what they meant.
func unquoteIMAP(a string) (string, bool) {
	if len(a) < 2 || a[0] != '"' {
		return "", false
	}
	var b strings.Builder
	for i := 1; i < len(a); i++ {
		switch c := a[i]; c {
		case '\\':
			if i+1 == len(a) || (a[i+1] != '"' && a[i+1] != '\\') {
				return "", false
			}
			i++
			b.WriteByte(a[i])
		case '"':
			return b.String(), i == len(a)-1
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

// searchValueKeys are the search keys whose arguments are values the
// user means as written (a substring, a header field's name), with how
// many: each is sent as a string, whatever it holds (":-)", "*", "a\b"
// and "SEEN" too), never as search syntax.
var searchValueKeys = map[string]int{
	"BCC": 1, "BODY": 1, "CC": 1, "FROM": 1, "SUBJECT": 1, "TEXT": 1, "TO": 1,
	"HEADER": 2, "X-GM-RAW": 1,
}

// searchFlagKeys are the search keys whose argument is a keyword, an
// atom: sent as one, or refused before anything is sent
// (wire.ErrInvalidAtom).
var searchFlagKeys = map[string]bool{"KEYWORD": true, "UNKEYWORD": true}

// searchAtom reports whether a search argument, in the place of a key (not
// the value of one of searchValueKeys), goes as written: a parenthesis,
// alone, for grouping; or a key, a date, a number or a set, which hold no
// space, quote, brace, % or parenthesis. Anything else is a value, sent as
// a string: a parenthesis within an argument (":-)", "a)") is part of
// it, not a group (written as written, it made the encoder refuse the
// command, or the server answer BAD).
func searchAtom(a string) bool {
	if a == "(" || a == ")" {
		return true
	}
	if a == "" {
		return false
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '{' || c == '%' || c == '(' || c == ')' {
			return false
		}
	}
	return true
}

func runFetch(ctx context.Context, cn *conn, args []string, own any, o *output) error {
	fo := own.(*fetchOpts)
	if *fo.to != "" {
		return runFetchTo(ctx, cn, args, fo, o)
	}
	if o.json && !*fo.parts {
		return usagef("fetch writes the message itself: --json does not apply (it does with --to DIR or --parts)")
	}
	n, err := strconv.ParseUint(args[1], 10, 32)
	if err != nil || n == 0 {
		return usagef("bad UID %q: a number from 1", args[1])
	}
	num := uint32(n)
	sec, err := parseSection(*fo.section)
	if err != nil {
		return err
	}
	if _, err := cn.c.Examine(ctx, args[0]); err != nil {
		return err
	}
	om := oneMessage{num: num, seq: *fo.seq, mailbox: args[0]}
	switch {
	case *fo.text:
		return fetchText(ctx, cn, om, o)
	case *fo.parts:
		return fetchParts(ctx, cn, om, o)
	case *fo.decode:
		return fetchDecoded(ctx, cn, om, sec.Part, o)
	}
	res, err := om.fetchAsked(ctx, cn, &commands.FetchItems{UID: true, Sections: []commands.FetchSection{sec}, BufferMax: -1}, sec, func(r io.Reader) error {
		_, err := io.Copy(o.stdout, r)
		return err
	})
	if err != nil {
		return err
	}
	found, nilBody, extra, other := res.found, res.nilSeen, res.extra, res.other
	if !found {
		if nilBody {
			return fmt.Errorf("the server sent %s as NIL (expunged meanwhile?): %w", om, errNotFound)
		}
		if other != nil {
			return other
		}
		return om.missing()
	}
	if other != nil {
		fmt.Fprintf(o.stderr, "imapkit fetch: %v: skipped (the section asked for came too, and is written)\n", other)
	}
	if extra {
		fmt.Fprintf(o.stderr, "imapkit fetch: the server sent the section asked for (%s) of %s more than once: the first is written\n", sec, om)
	}
	return nil
}

// askedResult is what fetchAsked saw of the section asked for: found, it
// was read; nilSeen, the server sent it as NIL (a message expunged
// meanwhile); extra, it came again after the one read; other, the first
// section the server sent that is not the one asked for (skipped: the
// error when the one asked for never comes).
type askedResult struct {
	found, nilSeen, extra bool
	other                 error
}

// fetchAsked runs the FETCH of items for the message and hands the first
// copy of section sec to read: a section beside it that is not the one
// asked for is skipped (nextAsked), a NIL one or a second copy is not
// read. What it saw is for the caller to report.
func (om oneMessage) fetchAsked(ctx context.Context, cn *conn, items *commands.FetchItems, sec commands.FetchSection, read func(io.Reader) error) (askedResult, error) {
	var res askedResult
	for m, err := range cn.c.Fetch(ctx, om.set(), items) {
		if err != nil {
			return res, err
		}
		if !om.maybe(m) {
			continue
		}
		more := false // the section asked for, after the one read
		var skipped error
		for {
			s, err := nextAsked(m, sec, &skipped)
			if err != nil {
				return res, err
			}
			if s == nil {
				break
			}
			if s.Nil {
				// Dovecot's answer for a message another session
				// expunged: nothing to read.
				res.nilSeen = true
				continue
			}
			if res.found {
				// Sent again (in this response or another): the
				// first is the one read.
				more = true
				continue
			}
			r, done, ok, err := om.take(m, s)
			if err != nil {
				return res, err
			}
			if !ok {
				continue
			}
			res.found = true
			err = read(r)
			done()
			if err != nil {
				return res, err
			}
		}
		// The UID is known once the sections have been read.
		if om.is(m) {
			res.extra = res.extra || more
			if res.other == nil {
				res.other = skipped
			}
		}
	}
	return res, nil
}

// oneMessage is the message a fetch of one UID (or sequence number) is
// about: a FETCH by UID may also bring other messages' flag updates.
type oneMessage struct {
	num     uint32
	seq     bool // num is a sequence number, not a UID
	mailbox string
}

// set is the message as a set of one, by UID or sequence number.
func (om oneMessage) set() commands.Set {
	if om.seq {
		return commands.SeqNums(om.num)
	}
	return commands.UIDs(om.num)
}

// String names the message for errors: "UID 7 in INBOX".
func (om oneMessage) String() string {
	what := "UID"
	if om.seq {
		what = "sequence number"
	}
	return fmt.Sprintf("%s %d in %s", what, om.num, printable(om.mailbox))
}

// missing is the error for a message the server did not send.
func (om oneMessage) missing() error {
	return fmt.Errorf("no message with %s: %w", om, errNotFound)
}

func (om oneMessage) is(m *commands.Message) bool {
	return om.seq && m.SeqNum == om.num || !om.seq && m.UID == om.num
}

// maybe reports whether m may be the message: it is, or its UID is not
// known yet (a server that sends the UID after a streamed body, Domino's
// order: take then says).
func (om oneMessage) maybe(m *commands.Message) bool {
	return om.is(m) || !om.seq && m.UID == 0
}

// take returns s, the one section fetched of m, when m is the message:
// at once when m's UID is known, else spooled into a temporary file until
// the section's end, after which the UID says whose it is. done releases
// what take kept.
func (om oneMessage) take(m *commands.Message, s *commands.Section) (r io.Reader, done func(), ok bool, err error) {
	if om.seq || m.UID != 0 {
		return s, func() {}, om.is(m), nil
	}
	sp, err := spool(func() (*os.File, error) { return os.CreateTemp("", "spool-*.imapkit") }, m, s)
	if err != nil {
		return nil, nil, false, err
	}
	if !om.is(m) {
		sp.Close()
		return nil, nil, false, nil
	}
	return sp, func() { sp.Close() }, true, nil
}

// structure fetches the message's body structure.
func (om oneMessage) structure(ctx context.Context, cn *conn) (*codec.BodyStructure, error) {
	var structure *codec.BodyStructure
	for m, err := range cn.c.Fetch(ctx, om.set(), &commands.FetchItems{UID: true, BodyStructure: true}) {
		if err != nil {
			return nil, err
		}
		if om.is(m) && m.BodyStructure != nil {
			structure = m.BodyStructure
		}
	}
	if structure == nil {
		return nil, om.missing()
	}
	return structure, nil
}

// part fetches BODY.PEEK[path] of the message and hands it to read. A
// section the server sends beside it that is not the one asked for (a
// NIL or not) is skipped, and warn says so once; the one asked for sent
// again is not read a second time, and warn says so; only an answer
// without the one asked for is an error.
func (om oneMessage) part(ctx context.Context, cn *conn, path []int, warn io.Writer, read func(io.Reader) error) error {
	want := commands.FetchSection{Part: path}
	res, err := om.fetchAsked(ctx, cn, &commands.FetchItems{UID: true, Sections: []commands.FetchSection{want}}, want, read)
	if err != nil {
		return err
	}
	found, gone, extra, other := res.found, res.nilSeen, res.extra, res.other
	if !found {
		if other != nil && !gone {
			return other
		}
		return fmt.Errorf("the server sent no part %s of %s: %w", partString(path), om, errNotFound)
	}
	if other != nil {
		fmt.Fprintf(warn, "imapkit fetch: %v: skipped (the part asked for came too, and is written)\n", other)
	}
	if extra {
		fmt.Fprintf(warn, "imapkit fetch: the server sent part %s of %s more than once: the first is written\n", partString(path), om)
	}
	return nil
}

// fetchText prints the text of one message: the part TextPart finds,
// plain text first, else HTML, decoded to UTF-8 as it streams. A part in an
// unknown transfer encoding or charset is printed as it could be decoded,
// with a warning.
func fetchText(ctx context.Context, cn *conn, om oneMessage, o *output) error {
	structure, err := om.structure(ctx, cn)
	if err != nil {
		return err
	}
	path, part := structure.TextPart("plain")
	if part == nil {
		if path, part = structure.TextPart("html"); part == nil {
			return fmt.Errorf("%s has no text part (text/plain or text/html): %w", om, errNotFound)
		}
		fmt.Fprintf(o.stderr, "imapkit: no text/plain part; printing the text/html part %s\n", partString(path))
	}
	return om.part(ctx, cn, path, o.stderr, func(s io.Reader) error {
		r, err := part.Decode(s)
		if err != nil {
			fmt.Fprintf(o.stderr, "imapkit: part %s printed as it is: %v\n", partString(path), err)
		}
		return writeText(o.stdout, r)
	})
}

// fetchDecoded writes one part of a message with its transfer encoding
// undone: the bytes of an attachment, say.
func fetchDecoded(ctx context.Context, cn *conn, om oneMessage, path []int, o *output) error {
	structure, err := om.structure(ctx, cn)
	if err != nil {
		return err
	}
	part := structure.Part(path...)
	if part == nil || part.IsMultipart() {
		return fmt.Errorf("%s has no single part %s (see --parts): %w", om, partString(path), errNotFound)
	}
	return om.part(ctx, cn, path, o.stderr, func(s io.Reader) error {
		r, err := codec.DecodeTransfer(string(part.Encoding), s)
		if err != nil {
			fmt.Fprintf(o.stderr, "imapkit: part %s written as it is: %v\n", partString(path), err)
		}
		_, err = io.Copy(o.stdout, r)
		return err
	})
}

// jsonPart is one line of fetch --parts --json.
type jsonPart struct {
	Part        string `json:"part"`
	Type        string `json:"type"`
	Size        int64  `json:"size"`
	Encoding    string `json:"encoding"`
	Charset     string `json:"charset"`
	Disposition string `json:"disposition"`
	Filename    string `json:"filename"`
}

// fetchParts lists the parts of a message: each one that is not a
// multipart, attached messages and what they hold included.
func fetchParts(ctx context.Context, cn *conn, om oneMessage, o *output) error {
	structure, err := om.structure(ctx, cn)
	if err != nil {
		return err
	}
	tw := o.table()
	if !o.json {
		fmt.Fprintln(tw, "PART\tTYPE\tSIZE\tENCODING\tCHARSET\tDISPOSITION\tFILENAME")
	}
	var werr error
	structure.Walk(func(path []int, p *codec.BodyStructure) bool {
		if p.IsMultipart() || werr != nil {
			return werr == nil
		}
		jp := jsonPart{Part: partString(path), Type: strings.ToLower(string(p.Type) + "/" + string(p.Subtype)), Size: p.Size,
			Encoding: strings.ToLower(string(p.Encoding)), Charset: p.Charset(), Disposition: strings.ToLower(string(p.Disposition)),
			Filename: p.Filename()}
		if o.json {
			werr = o.emit(jp)
			return werr == nil
		}
		dash := func(s string) string { return dashIfEmpty(printable(s)) }
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", jp.Part, dash(jp.Type), jp.Size, dash(jp.Encoding),
			dash(jp.Charset), dash(jp.Disposition), dash(jp.Filename))
		return true
	})
	if werr != nil {
		return werr
	}
	return tw.Flush()
}

// writeText copies the text of r to w for reading on a terminal: line ends
// become LF, the other control characters (C0 but tab, DEL, C1) '?', as
// printable does, so that a message cannot drive the terminal (--section
// gives the raw bytes); and the last line is ended (the CRLF before a MIME
// boundary is the boundary's). Bytes that are not UTF-8 (a part in an
// unknown charset) become U+FFFD.
func writeText(w io.Writer, r io.Reader) error {
	br := bufio.NewReader(r)
	bw := bufio.NewWriter(w)
	var last rune
	for {
		c, _, err := br.ReadRune()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch {
		case c == '\r':
			if next, _ := br.Peek(1); len(next) == 1 && next[0] == '\n' {
				continue
			}
			c = '?'
		case c == '\n' || c == '\t':
		case isControl(c):
			c = '?'
		}
		bw.WriteRune(c)
		last = c
	}
	if last != '\n' && last != 0 {
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// partString writes a part number as IMAP does: 1.2.
func partString(path []int) string {
	s := make([]string, len(path))
	for i, n := range path {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ".")
}

// maxSectionPart is the largest part number --section takes: an IMAP
// nz-number's bound (4294967295, commands' FetchSection.check), or the
// largest int where an int is 32 bits (FetchSection.Part is an []int).
const maxSectionPart = min(math.MaxUint32, math.MaxInt)

// parseSection parses a section specification as written between the
// brackets of BODY[...]: "", "HEADER", "1.2", "1.MIME",
// "HEADER.FIELDS (FROM TO)".
func parseSection(spec string) (commands.FetchSection, error) {
	var sec commands.FetchSection
	// Trimmed of SP and TAB only, as the list is split (below):
	// strings.TrimSpace dropped Unicode spaces too, so that
	// "<NEL>1.MIME", "HEADER.FIELDS<NBSP>(From)" and a trailing NBSP
	// were taken.
	spec = strings.Trim(spec, " \t")
	if spec == "" {
		return sec, nil
	}
	if i := strings.IndexByte(spec, '('); i >= 0 {
		if !strings.HasSuffix(spec, ")") {
			return sec, usagef("bad --section %q: unbalanced parenthesis", spec)
		}
		// One list of names (RFC 3501's header-list): "(a) (b)" or
		// "((a))" is no list of fields.
		if strings.ContainsAny(spec[i+1:len(spec)-1], "()") {
			return sec, usagef("bad --section %q: HEADER.FIELDS takes one list of field names", spec)
		}
		// Split on SP and TAB only (RFC 9051's header-list: names
		// apart by SP; a TAB is taken too, as a user may type one).
		// strings.Fields split on Unicode spaces as well (U+00A0,
		// U+0085...): "From<NBSP>To" was taken as From and To, two
		// names the user did not write, where a name holding a
		// non-ASCII byte is a usage error.
		sec.Fields = strings.FieldsFunc(spec[i+1:len(spec)-1], func(r rune) bool { return r == ' ' || r == '\t' })
		for _, f := range sec.Fields {
			if !validFieldName(f) {
				return sec, usagef("bad --section %q: %q is not a header field name (printable US-ASCII without ':', RFC 5322; imapkit sends none holding any of ()[]{}\"\\%%*)", spec, f)
			}
		}
		spec = strings.Trim(spec[:i], " \t")
	}
	parts := strings.Split(spec, ".")
	for len(parts) > 0 && allDigits(parts[0]) {
		// ASCII digits only: strconv.Atoi took a sign ("+1.MIME",
		// "1.+2"). Too many digits for a uint64 are past the bound.
		// RFC 3501's section-part is nz-number: no leading zero. "01"
		// was taken as 1, a spelling no server is bound to accept.
		// A number of zeros only is part 0: no suggestion ("write "
		// was empty; TestSectionAllZeros, found by review).
		if len(parts[0]) > 1 && parts[0][0] == '0' {
			if nz := strings.TrimLeft(parts[0], "0"); nz != "" {
				return sec, usagef("bad --section %q: part number %s has a leading zero (write %s)", spec, parts[0], nz)
			}
			return sec, usagef("bad --section %q: part number %s is 0: part numbers start at 1", spec, parts[0])
		}
		n, err := strconv.ParseUint(parts[0], 10, 64)
		if err != nil {
			n = math.MaxUint64
		}
		if n < 1 {
			return sec, usagef("bad --section %q: part numbers start at 1", spec)
		}
		// The bound commands' FetchSection.check sets (an IMAP
		// nz-number): refused there only once connected, after the
		// login, as a runtime error rather than a usage error.
		// maxSectionPart is that bound, or an int's where an int is
		// 32 bits (GOARCH=386, arm): 4294967295 was taken there, made
		// -1 by int(n), and refused only after the login.
		if n > maxSectionPart {
			return sec, usagef("bad --section %q: part number %s is past %d", spec, parts[0], uint64(maxSectionPart))
		}
		sec.Part = append(sec.Part, int(n))
		parts = parts[1:]
	}
	sec.Specifier = strings.ToUpper(strings.Join(parts, "."))
	switch sec.Specifier {
	case "", "TEXT", "MIME":
	case "HEADER":
	case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
		if len(sec.Fields) == 0 {
			return sec, usagef("bad --section %q: %s needs a list of fields, e.g. \"HEADER.FIELDS (FROM SUBJECT)\"", spec, sec.Specifier)
		}
	default:
		return sec, usagef("bad --section %q: expected HEADER, TEXT, MIME, HEADER.FIELDS (...), part numbers like 1.2, or a mix", spec)
	}
	if len(sec.Fields) > 0 && !strings.HasPrefix(sec.Specifier, "HEADER.FIELDS") {
		return sec, usagef("bad --section %q: a list of fields goes with HEADER.FIELDS only", spec)
	}
	if sec.Specifier == "MIME" && len(sec.Part) == 0 {
		return sec, usagef("bad --section %q: MIME needs a part number, e.g. 1.MIME", spec)
	}
	return sec, nil
}

// validFieldName reports whether f is a header field name that a
// HEADER.FIELDS list may hold: RFC 5322's ftext (printable US-ASCII but
// ':'), without the characters commands refuses in a field name (an
// atom's: it would need quoting, which it does not do). Such a name was
// taken here and refused by commands only after the connection and the
// login, as a runtime error (exit 1) rather than a usage error.
func validFieldName(f string) bool {
	if f == "" || strings.ContainsAny(f, ":()[]{}\"\\%*") {
		return false
	}
	for i := 0; i < len(f); i++ {
		if f[i] < 0x21 || f[i] > 0x7e {
			return false
		}
	}
	return true
}

// appendOpts are append's own flags.
type appendOpts struct {
	flags string
	date  string
}

func appendFlags(fs *flag.FlagSet) any {
	a := &appendOpts{}
	fs.StringVar(&a.flags, "flags", "", "flags to set, e.g. '\\Seen,\\Flagged'")
	fs.StringVar(&a.date, "date", "", "internal date, RFC 3339 (e.g. 2024-02-01T10:00:00Z); default now")
	return a
}

func runAppend(ctx context.Context, cn *conn, args []string, own any, o *output) error {
	a := own.(*appendOpts)
	opts := &commands.AppendOptions{Flags: listFlags(a.flags)}
	if a.date != "" {
		d, err := time.Parse(time.RFC3339, a.date)
		if err != nil {
			return usagef("bad --date %q: want RFC 3339, e.g. 2024-02-01T10:00:00Z", a.date)
		}
		opts.Date = d
	}
	var r io.Reader
	var size int64
	if len(args) < 2 || args[1] == "-" {
		// Spool stdin to a temporary file: APPEND needs the size first,
		// and memory stays flat. The file is unlinked at once (where
		// the system allows an open file to be), so that nothing of
		// the message is left in $TMPDIR even if the process is
		// killed; reading stdin stops at Ctrl-C (o.stdinUntil).
		tmp, err := os.CreateTemp("", "imapkit-append-")
		if err != nil {
			return err
		}
		unlinked := os.Remove(tmp.Name()) == nil
		defer func() {
			tmp.Close()
			if !unlinked {
				os.Remove(tmp.Name())
			}
		}()
		if size, err = io.Copy(tmp, o.stdinUntil(ctx)); err != nil {
			return fmt.Errorf("reading stdin: %w", err)
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return err
		}
		r = tmp
	} else {
		f, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		r, size = f, fi.Size()
	}
	if size == 0 {
		return usagef("append: the message is empty")
	}
	res, err := cn.c.Append(ctx, args[0], r, size, opts)
	if err != nil {
		return err
	}
	if o.json {
		return o.emit(struct {
			Mailbox     string `json:"mailbox"`
			Size        int64  `json:"size"`
			UIDValidity uint32 `json:"uidvalidity"`
			UID         uint32 `json:"uid"`
		}{args[0], size, res.UIDValidity, res.UID})
	}
	if res.UID != 0 {
		fmt.Fprintf(o.stdout, "appended %d bytes to %s: UID %d (UIDVALIDITY %d)\n", size, printable(args[0]), res.UID, res.UIDValidity)
	} else {
		fmt.Fprintf(o.stdout, "appended %d bytes to %s\n", size, printable(args[0]))
	}
	return nil
}

// idleFlags are idle's flags.
type idleFlags struct {
	d      *time.Duration
	newMsg *bool
	notify *bool
}

// jsonEvent is one event of idle --json.
type jsonEvent struct {
	Event   string   `json:"event"` // exists, expunge, recent, fetch, vanished, status, new (--new), mailbox and list (--notify), other
	Count   *uint32  `json:"count,omitempty"`
	Seq     uint32   `json:"seq,omitempty"`
	UID     uint32   `json:"uid,omitempty"`
	Flags   []string `json:"flags,omitempty"`
	UIDs    string   `json:"uids,omitempty"`
	Text    string   `json:"text,omitempty"`
	From    string   `json:"from,omitempty"`
	Subject string   `json:"subject,omitempty"`
	// Kind is a status event's: "OK", "NO", "BAD" (an untagged NO is
	// a warning; it came out as OK).
	Kind string `json:"kind,omitempty"`
	// --notify: another mailbox's counts (mailbox), or a mailbox created,
	// renamed or deleted (list: its attributes, \NonExistent when gone).
	Mailbox string `json:"mailbox,omitempty"`
	// MailboxBase64 and OldNameBase64 are the names' bytes as sent, when
	// the decoded names do not give them back (nameAsSent).
	MailboxBase64 string   `json:"mailbox_base64,omitempty"`
	Messages      *uint32  `json:"messages,omitempty"`
	Unseen        *uint32  `json:"unseen,omitempty"`
	UIDNext       uint32   `json:"uidnext,omitempty"`
	Attributes    []string `json:"attributes,omitempty"`
	OldName       string   `json:"old_name,omitempty"`
	OldNameBase64 string   `json:"old_name_base64,omitempty"`
}

func runIdle(ctx context.Context, cn *conn, args []string, own any, o *output) error {
	f := own.(*idleFlags)
	d := *f.d
	if d < 0 {
		return usagef("--for must not be negative")
	}
	if !cn.c.Session().HasCap("IDLE") && !cn.c.Session().HasCap("IMAP4rev2") {
		return fmt.Errorf("the server does not offer IDLE: %w", commands.ErrUnsupported)
	}
	if *f.notify && !cn.c.Session().HasCap("NOTIFY") {
		return fmt.Errorf("the server does not offer NOTIFY (--notify): %w", commands.ErrUnsupported)
	}
	mb, err := cn.c.Examine(ctx, args[0])
	if err != nil {
		return err
	}
	// --new follows new mail by UID, from the mailbox's UIDNEXT. Counting
	// messages from the events, it missed an EXISTS the server sent with
	// the answer to its own FETCH (between two IDLEs, where it goes to the
	// session, not to Idle's handler), and never reported that message.
	next := uint64(mb.UIDNext)
	if next == 0 && *f.newMsg && mb.Exists > 0 {
		ms, err := cn.c.FetchAll(ctx, commands.SeqNums(mb.Exists), &commands.FetchItems{UID: true})
		if err != nil {
			return ownSeq(err) // the last message's number, our own
		}
		for _, m := range ms {
			next = max(next, uint64(m.UID)+1)
		}
	}
	next = max(next, 1)
	if *f.notify {
		msgs := commands.NotifyMessageNew | commands.NotifyMessageExpunge
		if _, err := cn.c.Notify(ctx, nil,
			commands.NotifyGroup{Filter: commands.NotifySelected, Events: msgs | commands.NotifyFlagChange},
			commands.NotifyGroup{Filter: commands.NotifyPersonal, Events: msgs | commands.NotifyMailboxName | commands.NotifySubscriptionChange}); err != nil {
			return err
		}
	}
	utf8 := cn.c.Session().UTF8Enabled()
	if d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	if !o.json {
		fmt.Fprintf(o.stderr, "idling on %s", printable(args[0]))
		if d > 0 {
			fmt.Fprintf(o.stderr, " for %v", d)
		}
		fmt.Fprintln(o.stderr, " (interrupt to stop)")
	}
	var werr error
	show := func(ev jsonEvent) bool {
		if werr != nil {
			return false // the error that stopped it stays
		}
		if o.json {
			werr = o.emit(ev)
		} else {
			_, werr = fmt.Fprintln(o.stdout, printable(ev.text()))
		}
		return werr == nil
	}
	onEvent := func(r codec.Response) bool { return show(idleEvent(r, utf8)) }
	// What the server sends between the commands of the watch (after the
	// answer to an IDLE's DONE, before the FETCH of --new went out; after
	// that FETCH, before the next IDLE) no command takes: ca takes it, and
	// Idle and fetchNew print it, in order, before what their command
	// brings. It went to the session's unsolicited stream, which nothing
	// reads here: an EXISTS that came right after the answer to DONE was
	// never printed.
	ca := cn.c.Session().Catch()
	defer ca.Stop()
	for {
		// --new ends the IDLE at an EXISTS, and fetches from here: the
		// handler does not run the FETCH itself, which printed what came
		// with the answer to its DONE (Idle hands it on once the handler
		// has returned) after what the FETCH brought. It ends it by
		// ending the IDLE's context, not by returning false: Idle then
		// hands on everything until that answer, EXISTS included.
		due := false
		ictx, stop := context.WithCancel(ctx)
		err = cn.c.Idle(ictx, &commands.IdleOptions{Catch: ca}, func(r codec.Response) bool {
			if !onEvent(r) {
				return false
			}
			if _, ok := r.(*codec.Exists); ok && *f.newMsg {
				due = true
				stop()
			}
			return true
		})
		stop()
		if due && ctx.Err() == nil && errors.Is(err, context.Canceled) {
			err = nil
		}
		if werr != nil || err != nil || !due {
			break
		}
		// Again until a FETCH finds nothing new and says of nothing
		// more: the EXISTS of a message that arrived during one came
		// with its answer (and with an expunge beside it the count did
		// not even move). One that came with the answer of a FETCH that
		// found nothing new (the last one) went to no handler: the
		// next IDLE started and the message was never fetched, so a
		// count past the answer's last message (pending) fetches again.
		// The same pending count twice without anything found ends it:
		// a server that repeats an EXISTS with every answer, and answers
		// UID n:* past its last UID with nothing, is not asked for ever;
		// nor is one whose EXISTS grows with every empty answer: after
		// maxEmptyRefetch fetches that found nothing, the next IDLE.
		const maxEmptyRefetch = 2
		var lastPending uint32
		empty := 0
		for next <= math.MaxUint32 && werr == nil {
			found, pending, ferr := fetchNew(ctx, cn.c.Session(), ca, &next, onEvent, show)
			if ferr != nil {
				werr = ferr
				break
			}
			if found {
				lastPending, empty = 0, 0
				continue
			}
			if pending == 0 || pending == lastPending || empty >= maxEmptyRefetch {
				break
			}
			lastPending = pending
			empty++
		}
		if werr != nil {
			break
		}
	}
	if werr == nil && err == nil || ctx.Err() != nil {
		// What came after the last IDLE, before the end.
		caught, terr := ca.Take()
		for _, r := range caught {
			onEvent(r)
		}
		if terr != nil && werr == nil {
			werr = terr // events dropped past MaxResultBytes: say so
		}
	}
	if werr != nil {
		if ctx.Err() != nil && errors.Is(werr, ctx.Err()) {
			return nil // --for ended during a fetch
		}
		return werr
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// fetchNew is the UID FETCH of idle --new: the UID and envelope of the
// messages from *next on, each handed to onNew as a "new" event, *next
// moved past it. The command takes every untagged response the server
// sends while it runs (but the continuation requests, CAPABILITY and
// ENABLED, which the session handles), in order: those that are not its
// answer (an EXPUNGE, another client's flag change, an EXISTS, an alert)
// go to onEvent, as the IDLE's would. Run with commands.Client.FetchAll,
// they went to the session's unsolicited stream, which nothing reads
// here: never printed, and every sequence number printed after them was
// off for a consumer that follows the events. What came before the
// command went out, which ca caught, goes to onEvent first. Both run
// where the session reads (session.Command.OnData), so they only print.
// found reports a new message. pending is the mailbox's message count
// when an EXISTS came (caught before the command or with its answer) and
// said of more messages than the answer's last one (its sequence number,
// moved down by the EXPUNGEs after it): mail that arrived while the
// FETCH ran, which the caller fetches with another; 0 otherwise. Once
// either callback returned false, the rest of
// the answer is read and not printed (the caller's error says why). So
// is what comes after Run returned early (ctx ended: the answer is read
// in the background), lest it be printed after the command's end, beside
// its caller.
func fetchNew(ctx context.Context, s *session.Session, ca *session.Catch, next *uint64, onEvent func(codec.Response) bool, onNew func(jsonEvent) bool) (found bool, pending uint32, err error) {
	var mu sync.Mutex // stopped, found, *next and the counts, between OnData and this goroutine
	stopped := false
	// count is the message count the last EXISTS gave (counted down by
	// EXPUNGEs after it), known once one came; lastSeq the sequence
	// number of the answer's last message, as later EXPUNGEs move it.
	var count, lastSeq uint32
	known := false
	track := func(r codec.Response) {
		switch r := r.(type) {
		case *codec.Exists:
			count, known = r.Count, true
		case *codec.Expunge:
			if count > 0 {
				count--
			}
			if r.Seq <= lastSeq {
				lastSeq--
			}
		case *codec.Fetch:
			if r.Has&codec.FetchEnvelope != 0 {
				lastSeq = max(lastSeq, r.Seq)
			}
		}
	}
	from := uint32(*next)
	handle := func(r codec.Response) { // under mu
		track(r)
		if stopped {
			return
		}
		if f, ok := r.(*codec.Fetch); ok && f.Has&codec.FetchEnvelope != 0 {
			// The answer's: a message of the set (another client's
			// flag change has no envelope).
			if uint64(f.UID) < *next {
				return // UID next:* names the last message when next is past it
			}
			found, *next = true, uint64(f.UID)+1
			stopped = !onNew(newEvent(f.Seq, f.UID, f.Envelope))
			return
		}
		stopped = !onEvent(r)
	}
	// The command's own responses come after what ca caught: the first
	// of them takes it (Catch.Take, under mu), or the caller once Start
	// has returned. The command is in flight by then (or was not sent):
	// what came before is in ca, what comes after goes to the command.
	// Before, OnData waited for the caller to take it after Start
	// returned, and a Start that fails in flight waits for the OnData
	// it is in (session.Command.OnData): a hang.
	var cerr error
	taken := false
	takeCaught := func() { // under mu
		if taken {
			return
		}
		taken = true
		var caught []codec.Response
		caught, cerr = ca.Take()
		for _, r := range caught {
			handle(r)
		}
	}
	p, err := s.Start(ctx, &session.Command{
		Name: "UID FETCH",
		Args: func(e *wire.Encoder) {
			e.SP().SeqSet([]wire.SeqRange{{Start: from, Stop: 0}}).SP().Raw("(UID ENVELOPE)")
		},
		Want: func(r codec.Response) bool {
			switch r.(type) {
			case *codec.Continuation, *codec.Capability, *codec.Enabled:
				return false
			}
			return true
		},
		OnData: func(r codec.Response) {
			mu.Lock()
			defer mu.Unlock()
			takeCaught()
			handle(r)
		},
	})
	mu.Lock()
	takeCaught()
	mu.Unlock()
	if err == nil {
		_, err = p.Wait(ctx)
	}
	if err == nil {
		err = cerr
	}
	mu.Lock()
	defer mu.Unlock()
	stopped = true
	if known && count > lastSeq {
		pending = count
	}
	return found, pending, err
}

// newEvent describes a new message for idle --new.
func newEvent(seq, uid uint32, e *codec.Envelope) jsonEvent {
	ev := jsonEvent{Event: "new", Seq: seq, UID: uid}
	if e != nil {
		// As sent, for --json (see headers); the text line makes them
		// printable.
		ev.Subject, _ = e.DecodedSubject()
		if len(e.From) > 0 {
			ev.From = e.From[0].String()
		}
	}
	return ev
}

// idleEvent describes an untagged response seen during IDLE; utf8 tells
// how mailbox names come. Its strings are as sent, for --json (escaped by
// the JSON writer, which turns bytes that are not UTF-8 into U+FFFD); the
// text line (text) is made printable where it is printed.
func idleEvent(r codec.Response, utf8 bool) jsonEvent {
	name := func(b []byte) string {
		if !utf8 {
			if s, err := codec.DecodeMailbox(b); err == nil {
				return s
			}
		}
		return string(b)
	}
	switch v := r.(type) {
	case *codec.MailboxStatus:
		ev := jsonEvent{Event: "mailbox", Mailbox: name(v.Mailbox), UIDNext: v.UIDNext}
		ev.MailboxBase64 = nameAsSent(ev.Mailbox, v.Mailbox, utf8)
		if v.Items&codec.StatusMessages != 0 {
			n := v.Messages
			ev.Messages = &n
		}
		if v.Items&codec.StatusUnseen != 0 {
			n := v.Unseen
			ev.Unseen = &n
		}
		return ev
	case *codec.List:
		ev := jsonEvent{Event: "list", Mailbox: name(v.Mailbox)}
		ev.MailboxBase64 = nameAsSent(ev.Mailbox, v.Mailbox, utf8)
		for _, a := range v.Attrs {
			ev.Attributes = append(ev.Attributes, string(a))
		}
		if v.OldName != nil {
			ev.OldName = name(v.OldName)
			ev.OldNameBase64 = nameAsSent(ev.OldName, v.OldName, utf8)
		}
		return ev
	case *codec.Exists:
		n := v.Count
		return jsonEvent{Event: "exists", Count: &n}
	case *codec.Recent:
		n := v.Count
		return jsonEvent{Event: "recent", Count: &n}
	case *codec.Expunge:
		return jsonEvent{Event: "expunge", Seq: v.Seq}
	case *codec.Fetch:
		fl := make([]string, len(v.Flags))
		for i, f := range v.Flags {
			fl[i] = string(f)
		}
		return jsonEvent{Event: "fetch", Seq: v.Seq, UID: v.UID, Flags: fl}
	case *codec.Vanished:
		return jsonEvent{Event: "vanished", UIDs: v.UIDs.String()}
	case *codec.Status:
		t := string(v.Text)
		if v.Code != nil {
			code := string(v.Code.Name)
			if v.Code.Raw != nil {
				code += " " + string(v.Code.Raw)
			}
			t = "[" + code + "] " + t
		}
		ev := jsonEvent{Event: "status", Text: t}
		if v.Kind != 0 {
			ev.Kind = v.Kind.String()
		}
		return ev
	case *codec.Unknown:
		// Its name and text as sent (bounded as any line is): it was
		// the Go type, "*codec.Unknown", and the text was lost.
		t := string(v.Name)
		if v.HasNum {
			t = strconv.FormatUint(uint64(v.Num), 10) + " " + t
		}
		if len(v.Rest) > 0 {
			t += " " + string(v.Rest)
		}
		return jsonEvent{Event: "other", Text: strings.TrimSpace(t)}
	}
	return jsonEvent{Event: "other", Text: codec.ResponseName(r)}
}

// text is the event as one line, with the server's strings as they are:
// its caller makes it printable.
func (e jsonEvent) text() string {
	switch e.Event {
	case "exists":
		return fmt.Sprintf("EXISTS %d", *e.Count)
	case "recent":
		return fmt.Sprintf("RECENT %d", *e.Count)
	case "expunge":
		return fmt.Sprintf("EXPUNGE %d", e.Seq)
	case "fetch":
		s := fmt.Sprintf("FETCH %d FLAGS (%s)", e.Seq, strings.Join(e.Flags, " "))
		if e.UID != 0 {
			s += fmt.Sprintf(" UID %d", e.UID)
		}
		return s
	case "vanished":
		return "VANISHED " + e.UIDs
	case "new":
		return fmt.Sprintf("new: UID %d from %s: %s", e.UID, printable(e.From), printable(e.Subject))
	case "status":
		return cmp.Or(e.Kind, "OK") + " " + e.Text
	case "mailbox":
		s := "MAILBOX " + e.Mailbox
		if e.Messages != nil {
			s += fmt.Sprintf(" messages %d", *e.Messages)
		}
		if e.Unseen != nil {
			s += fmt.Sprintf(" unseen %d", *e.Unseen)
		}
		if e.UIDNext != 0 {
			s += fmt.Sprintf(" uidnext %d", e.UIDNext)
		}
		return s
	case "list":
		s := "LIST " + e.Mailbox + " (" + strings.Join(e.Attributes, " ") + ")"
		if e.OldName != "" {
			s += " renamed from " + e.OldName
		}
		return s
	}
	return "other " + e.Text
}

// printable replaces control characters, the line and paragraph
// separators, the bidirectional controls (what internal/printable
// escapes: esc.Unsafe) and each byte that is not UTF-8 (a raw 0x9b is CSI
// to an 8-bit terminal) by '?', so that a server's names cannot drive the
// terminal, break a line or reorder what is shown (a right-to-left
// override in a file name).
func printable(s string) string {
	var b []byte // nil until something is replaced
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if esc.Unsafe(r) || r == utf8.RuneError && n == 1 {
			if b == nil {
				b = append(make([]byte, 0, len(s)), s[:i]...)
			}
			b = append(b, '?')
		} else if b != nil {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	if b == nil {
		return s
	}
	return string(b)
}

// isControl reports a control character (C0, DEL, C1): what fetch --text
// shows as '?'. It is narrower than printable's esc.Unsafe: a message's
// text, shown for reading, keeps its bidirectional marks (right-to-left
// text needs them to be shown right) and separators, which cannot drive
// the terminal.
func isControl(r rune) bool { return r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0 }

// nonNil makes a nil slice an empty one, so that JSON has [] and not null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
