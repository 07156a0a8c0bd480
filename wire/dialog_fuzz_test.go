package wire_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/imapkit/imapkit/wire"
)

// FuzzDialogRelay is a differential test of Dialog and the client
// direction of the relay loop of docs/proxy.md (as cmd/imapkit's proxy
// runs it) against a model of an IMAP server. The input is what a hostile
// client sends (client), the choices of the server and of the scheduling
// of the two directions (decide: even bytes for the server, odd bytes for
// the scheduling, 0 once used up), and pieces, which sets MaxLineTokens
// (0: the default; otherwise 5 to 12, so that lines come in pieces; the
// model's server then takes tags of up to MaxLineTokens-4 bytes, so that
// the tag, the name and UID's subcommand come in the first piece, the one
// the loop classifies: with the default, 65,536 tokens, a server's bound
// on tags, 100 bytes for Dovecot, does the same).
//
// The server model (relayServer) reads what the proxy forwarded, as it
// comes, as a server does: a command line's tag and name as the grammar
// has them (relayHead), its arguments and literals with its own
// Tokenizer. Like Dovecot 2.3, it reads a literal only while the command
// wants arguments (relayArgs): a command that takes none (NOOP,
// CAPABILITY, IDLE, ...), an unknown name, a tagged line with no valid
// name, or a line with no valid tag ("* BAD", as Dovecot's "Invalid
// tag"), is run once its line is read as text to the first LF, so that a
// literal header ends the line, no "+" is sent, and what follows is read
// as a new command (the body of a "{n+}" runs as commands); CREATE and
// DELETE take one argument, STATUS and RENAME two: a literal after them
// ends the line the same way, with the command's completion. A literal
// it reads is, when synchronizing, accepted ("+ go", then the body) or
// refused ("tag NO", no body: the line ends), when non-synchronizing read
// at once. AUTHENTICATE is answered with 0 to 2 challenges, each followed
// by one line read as text (to its LF: a "{n}" there is text), then OK or
// NO ("*" cancels: BAD); IDLE accepted ("+ idling", one line read as text,
// OK if it is DONE, BAD otherwise) or refused (NO); other commands OK, an
// unknown one BAD. It records every command it reads with its offset in
// what the proxy forwarded, and every response with the offset after
// which it sent it and, for a "+", why.
//
// The proxy (relayProxy) follows the loop of docs/proxy.md with one
// Tokenizer over the client's bytes and one Dialog, to which the server's
// responses go in order, as the scheduling bytes choose, never before the
// proxy has forwarded what caused them. Every literal waits for the
// server's word (ExpectContinuation with its LiteralInfo, then
// WaitContinuation), a non-synchronizing one forwarded as synchronizing
// (ForwardAsSync); refused, a synchronizing literal ends the line
// (RefuseLiteral), a non-synchronizing one's body and the rest of its
// command are read and dropped (Tokenizer.RefuseCommand). Where the loop waits
// (ClientWait, WaitContinuation) the next responses go until it can go on;
// with none left it stalls, which is fine (it fails closed) and ends the
// exec.
//
// The property: every command the server read is one the proxy classified
// as a LineCommand at the same offset of the forwarded stream, with the
// same tag and name (extra ones are fine); the proxy relays the client's
// bytes unchanged but for the '+' of the non-synchronizing literal
// headers it forwards as synchronizing and the commands it drops; the
// client sees a "+" exactly when it asked for one: Event.Withhold is set
// on the go-ahead of a literal the client sent as non-synchronizing, and
// on no other "+" (a synchronizing literal's, a SASL challenge, IDLE's);
// no panic, no wait that never ends (each exec runs in a synctest bubble,
// so a goroutine blocked for good is reported), and a wait that stalled
// must not have been able to go on (a lost wake-up).
func FuzzDialogRelay(f *testing.F) {
	for _, s := range relaySeeds {
		f.Add([]byte(s.client), s.decide(), s.pieces)
	}
	f.Fuzz(func(t *testing.T, client, decide []byte, pieces uint8) {
		if len(client) > 1<<17 {
			return
		}
		if msg := checkRelay(t, client, decide, pieces); msg != "" {
			t.Fatal(msg)
		}
	})
}

// relaySeed is a scenario: the client's bytes, the server's choices (one
// byte each: see relayServer) and the scheduling's (responses delivered at
// each scheduling point, 0 to 3).
type relaySeed struct {
	name          string
	client        string
	server, sched []byte
	pieces        uint8
}

// decide interleaves the server's and the scheduling's choices as
// FuzzDialogRelay reads them.
func (s relaySeed) decide() []byte {
	n := max(len(s.server), len(s.sched))
	out := make([]byte, 2*n)
	for i := range n {
		if i < len(s.server) {
			out[2*i] = s.server[i]
		}
		if i < len(s.sched) {
			out[2*i+1] = s.sched[i]
		}
	}
	return out
}

// The server's choices: a synchronizing literal is accepted with 0,
// refused with 1; AUTHENTICATE sends c&3 challenges (3: none), then OK if
// c&4 is 0, NO otherwise; IDLE is accepted with 0, refused with 1.
const (
	accept = 0
	refuse = 1
)

// eager delivers every response it can at each scheduling point.
var eager = bytes.Repeat([]byte{3}, 64)

var relaySeeds = []relaySeed{
	{name: "refused APPEND", client: "a1 APPEND Missing {18}\r\na2 DELETE Victim\r\na3 NOOP\r\n", server: []byte{refuse}},
	{name: "accepted APPEND", client: "a1 APPEND INBOX {18}\r\na2 DELETE Victim\r\na3 NOOP\r\n", server: []byte{accept}},
	{name: "SASL-IR pipelined", client: "a1 AUTHENTICATE PLAIN AGFsaWNlAHBhc3M=\r\na2 DELETE x\r\n", server: []byte{0}},
	{name: "SASL two steps", client: "b1 AUTHENTICATE SCRAM-SHA-256 biwsbj1hbGljZQ==\r\nYz1iaXdz\r\nb2 DELETE y\r\n\r\nb3 NOOP\r\n", server: []byte{2}},
	{name: "SASL early response", client: "a1 AUTHENTICATE PLAIN\r\nAGFsaWNlAHdyb25n\r\na2 LOGIN alice pass\r\n", server: []byte{1 | 4}},
	{name: "SASL cancel", client: "a1 AUTHENTICATE PLAIN\r\n*\r\na2 DELETE x\r\n", server: []byte{2}},
	{name: "SASL raw line", client: "a1 AUTHENTICATE PLAIN\r\nabc {18+}\r\na2 DELETE Victim\r\n", server: []byte{1 | 4}},
	{name: "SASL raw sync", client: "a1 AUTHENTICATE PLAIN\r\nabc {18}\r\na2 DELETE Victim\r\n", server: []byte{1 | 4}, sched: eager},
	{name: "IDLE raw line", client: "a1 IDLE\r\nabc {18+}\r\na2 DELETE Victim\r\n", server: []byte{accept}},
	// Commands named like a server's status lines, and a line that
	// begins with '+': the literal is one to the client's tokenizer
	// (TokenizerOptions.Commands), and the server's BAD for the unknown
	// name refuses it.
	{name: "command named OK", client: "a1 OK {18+}\r\na2 DELETE Victim\r\na3 NOOP\r\n", server: []byte{accept}},
	{name: "command named BYE", client: "a[1 BYE {18}\r\na2 DELETE Victim\r\na3 NOOP\r\n", server: []byte{accept}, sched: eager},
	{name: "plus first", client: "+ {18+}\r\na2 DELETE Victim\r\na3 NOOP\r\n", server: []byte{accept}},
	{name: "IDLE refused", client: "a1 IDLE\r\na2 DELETE x\r\n", server: []byte{refuse}},
	{name: "IDLE DONE APPEND", client: "a1 IDLE\r\nDONE\r\na2 APPEND Missing {18}\r\na3 DELETE Victim\r\n", server: []byte{accept, refuse}, sched: []byte{0, 0, 0, 0, 0}},
	{name: "IDLE DONE APPEND eager", client: "a1 IDLE\r\nDONE\r\na2 APPEND Missing {18}\r\na3 DELETE Victim\r\n", server: []byte{accept, refuse}, sched: eager},
	{name: "reused tag", client: "a1 NOOP\r\na1 APPEND INBOX {13}\r\nx NOOP {20+}\r\na3 DELETE Victim\r\n", server: []byte{accept}},
	{name: "reused tag refused", client: "a1 NOOP\r\na1 APPEND Missing {13}\r\nx NOOP {20+}\r\na3 DELETE Victim\r\n", server: []byte{refuse}},
	{name: "tag only", client: "a1\r\na1 APPEND INBOX {13}\r\nx NOOP {20+}\r\na3 DELETE Victim\r\n", server: []byte{accept}},
	{name: "verdict before wait", client: "a1 APPEND INBOX {13}\r\nx NOOP {20+}\r\na3 DELETE Victim\r\n", server: []byte{accept}, sched: []byte{0, 0, 3}},
	{name: "non-sync literals", client: "a1 APPEND INBOX (\\Seen) {5+}\r\nhello {3+}\r\nabc\r\na2 UID FETCH 1:* (FLAGS)\r\n"},
	{name: "raw text line", client: "a1 NOOP abc {18+}\r\na2 DELETE Victim\r\n"},
	{name: "IDLE DONE LOGIN", client: "a1 IDLE\r\nDONE\r\na2 LOGIN alice secret\r\n", server: []byte{accept}},
	{name: "NIL tag AUTHENTICATE", client: "NIL AUTHENTICATE PLAIN\r\nabc {18+}\r\na2 DELETE Victim\r\n", server: []byte{1 | 4}},
	{name: "bracket tags", client: "a[1 LOGIN alice secret\r\n] UID EXPUNGE 1\r\n<1> IDLE\r\nabc {18+}\r\na2 DELETE Victim\r\n", server: []byte{accept}},
	{name: "long line", client: "a1 SEARCH" + strings.Repeat(" 1", 200) + " {5}\r\nhello\r\na2 DELETE x\r\n", pieces: 1},
	{name: "long line refused", client: "a1 SEARCH" + strings.Repeat(" 1", 200) + " {18}\r\na2 DELETE Victim\r\n", server: []byte{refuse}, pieces: 3},
	{name: "long SASL line", client: "a1 AUTHENTICATE PLAIN\r\n" + strings.Repeat("a ", 100) + "{18+}\r\na2 DELETE Victim\r\n", server: []byte{1}, pieces: 2},
	// Dovecot 2.3 reads no literal for a command that has its arguments:
	// the bytes after "a1 NOOP {18+}" run as a command. The proxy forwards
	// the header as "{18}": the server completes the NOOP (no "+"), and
	// the proxy drops the body and the rest of the command (here an empty
	// line), so that a2 goes nowhere and a3 is the next command.
	{name: "NOOP non-sync hidden command", client: "a1 NOOP {18+}\r\na2 DELETE Victim\r\n\r\na3 NOOP\r\n"},
	// Lines the proxy refuses itself (no tag, no command name, not
	// tokenized: Answered): a refused tag alone left pending would take
	// the IDLE's completion with the same tag.
	{name: "refused lines", client: "* NOOP {18+}\r\na2 DELETE Victim\r\nz\r\nz IDLE\r\nDONE\r\na1 NOOP \x01 {3}\r\nz NOOP {18+}\r\na2 DELETE Victim\r\n\r\n", server: []byte{accept}},
	{name: "refused tag alone before IDLE", client: "z\r\nz IDLE\r\nDONE\r\nb1 NOOP {18+}\r\na2 DELETE Victim\r\n\r\n", server: []byte{accept}, sched: eager},
	{name: "NOOP sync", client: "a1 NOOP {18}\r\na2 DELETE Victim\r\na3 NOOP\r\n"},
	{name: "unknown non-sync", client: "a1 XYZZY {18+}\r\na2 DELETE Victim\r\n\r\na3 NOOP\r\n", sched: eager},
	{name: "CREATE extra literal", client: "a1 CREATE {2+}\r\nX1 {18+}\r\na2 DELETE Victim\r\n\r\na3 NOOP\r\n"},
	{name: "STATUS extra literal", client: "a1 STATUS INBOX (MESSAGES) {18+}\r\na2 DELETE Victim\r\n\r\na3 NOOP\r\n"},
	{name: "SELECT non-sync", client: "a1 SELECT {5+}\r\nINBOX\r\na2 NOOP\r\n"},
	{name: "SELECT non-sync refused", client: "a1 SELECT {18+}\r\na2 DELETE Victim\r\n\r\na3 NOOP\r\n", server: []byte{refuse}},
	{name: "APPEND second non-sync refused", client: "a1 APPEND INBOX {5+}\r\nhello {18+}\r\na2 DELETE Victim\r\n\r\na3 NOOP\r\n", server: []byte{accept, refuse}},
	{name: "IDLE non-sync literal", client: "a1 IDLE {4+}\r\nDONE\r\na2 DELETE x\r\na3 NOOP\r\n", server: []byte{accept}},
	{name: "IDLE sync literal", client: "a1 IDLE {4}\r\nDONE\r\na2 NOOP\r\n", server: []byte{accept}, sched: eager},
}

// TestDialogRelaySeeds runs FuzzDialogRelay's seeds with their names.
func TestDialogRelaySeeds(t *testing.T) {
	for _, s := range relaySeeds {
		t.Run(s.name, func(t *testing.T) {
			if msg := checkRelay(t, []byte(s.client), s.decide(), s.pieces); msg != "" {
				t.Fatal(msg)
			}
		})
	}
}

// choices reads a stream of decision bytes: 0 once it is used up.
type choices struct {
	b []byte
	i int
}

func (c *choices) next() byte {
	if c.i >= len(c.b) {
		return 0
	}
	c.i++
	return c.b[c.i-1]
}

// relayCmd is a command line: where it starts in the stream the proxy
// forwarded (where the server reads it), its tag and its name (upper case;
// "UID FETCH" for UID commands).
type relayCmd struct {
	off       int64
	tag, name string
}

// relayPlus says why the server sent a "+".
type relayPlus uint8

const (
	plusLit  relayPlus = iota + 1 // the go-ahead for the literal whose header ends at after
	plusSASL                      // a SASL challenge
	plusIdle                      // IDLE accepted
)

// relayResp is a line the server sends once it has read the forwarded
// bytes up to after; plus says why, for a "+".
type relayResp struct {
	after int64
	line  []byte
	plus  relayPlus
}

// checkRelay runs the server model and the proxy on one input and returns
// what breaks the property ("" if nothing).
func checkRelay(t *testing.T, client, decide []byte, pieces uint8) (msg string) {
	var srvDec, schedDec choices
	for i, c := range decide {
		if i%2 == 0 {
			srvDec.b = append(srvDec.b, c)
		} else {
			schedDec.b = append(schedDec.b, c)
		}
	}
	srv := &relayServer{dec: &srvDec, maxTag: 100}
	if pieces != 0 {
		// The tag, the name and UID's subcommand must come in the first
		// piece, which the loop classifies; tokens take a byte at least.
		srv.maxTag = relayMaxLineTokens(pieces) - 4
	}
	p := &relayProxy{srv: srv, sched: &schedDec, client: client, litNonSync: map[int64]bool{}}
	synctest.Test(t, func(*testing.T) { msg = p.run(client, pieces) })
	if msg == "" {
		msg = p.fail
	}
	if msg != "" {
		return msg + "\n" + relayReport(client, srv, p)
	}
	// The server reads what the proxy forwarded last, too.
	srv.feed(p.out.Bytes())
	seen := make(map[relayCmd]bool, len(p.cmds))
	for _, c := range p.cmds {
		seen[c] = true
	}
	for _, c := range srv.cmds {
		if !seen[c] {
			return fmt.Sprintf("the server read the command %q %q at offset %d of what the proxy relayed (%d bytes), not seen as that command by the proxy", c.tag, c.name, c.off, p.out.Len()) + "\n" + relayReport(client, srv, p)
		}
	}
	return ""
}

func relayReport(client []byte, srv *relayServer, p *relayProxy) string {
	var b strings.Builder
	fmt.Fprintf(&b, "client %q\nforwarded %q\nserver commands:", client, p.out.Bytes())
	for _, c := range srv.cmds {
		fmt.Fprintf(&b, " %d:%q/%q", c.off, c.tag, c.name)
	}
	b.WriteString("\nserver responses:")
	for _, r := range srv.resps {
		fmt.Fprintf(&b, " %d:%q", r.after, r.line)
	}
	b.WriteString("\nproxy commands (forwarded@client offset):")
	for i, c := range p.cmds {
		fmt.Fprintf(&b, " %d@%d:%q/%q", c.off, p.cmdAt[i], c.tag, c.name)
	}
	b.WriteString("\nproxy dropped (client offsets):")
	for _, d := range p.dropped {
		fmt.Fprintf(&b, " %d-%d", d[0], d[1])
	}
	fmt.Fprintf(&b, "\nproxy: forwarded %d bytes, delivered %d responses, stopped: %s\nlog: %s", p.out.Len(), p.next, p.stop, strings.Join(p.log, "; "))
	return b.String()
}

// relayMaxLineTokens is the proxy's MaxLineTokens for pieces != 0.
func relayMaxLineTokens(pieces uint8) int { return 5 + int(pieces%8) }

// relayServer is the model of the server: the ground truth of which
// command lines the server reads, and where. It reads what the proxy
// forwarded as it comes (feed).
type relayServer struct {
	in     []byte // what the proxy forwarded so far
	maxTag int    // the longest tag it takes (Dovecot: 100 bytes)
	dec    *choices
	tk     *wire.Tokenizer
	rd     bytes.Reader
	line   []wire.Token
	cmds   []relayCmd
	resps  []relayResp
	// The server reads the command at pos; cmds, resps and dec.i were at
	// nCmds, nResps and decAt when it began. A command whose bytes have
	// not all come is read again from pos when more come: the model is
	// deterministic, so what it sent already comes again, the same.
	pos                  int64
	nCmds, nResps, decAt int
	fed                  int  // len(in) at the last feed
	full                 bool // the limit on responses was reached
}

func (m *relayServer) send(after int64, s string) {
	m.resps = append(m.resps, relayResp{after: after, line: []byte(s + "\r\n")})
}

func (m *relayServer) sendPlus(after int64, s string, why relayPlus) {
	m.resps = append(m.resps, relayResp{after, []byte(s + "\r\n"), why})
}

// feed lets the server read in, all that the proxy forwarded so far: it
// reads command lines until in ends or one cannot be read.
func (m *relayServer) feed(in []byte) {
	if len(in) == m.fed || m.full {
		return
	}
	if m.tk == nil {
		m.tk = wire.NewTokenizer(&m.rd, &wire.TokenizerOptions{BufferSize: 512})
	}
	m.in, m.fed = in, len(in)
	for m.pos < int64(len(in)) {
		if len(m.resps) >= 1<<12 {
			m.full = true
			return
		}
		sent := slices.Clone(m.resps[m.nResps:])
		m.cmds, m.resps, m.dec.i = m.cmds[:m.nCmds], m.resps[:m.nResps], m.decAt
		next, ok := m.command(m.pos)
		again := m.resps[m.nResps:]
		for i, r := range sent {
			if i >= len(again) || again[i].after != r.after || !bytes.Equal(again[i].line, r.line) || again[i].plus != r.plus {
				panic(fmt.Sprintf("the model server, reading the command at %d again with more bytes, did not send its response %d (%q) again", m.pos, i, r.line))
			}
		}
		if !ok {
			return
		}
		m.pos, m.nCmds, m.nResps, m.decAt = next, len(m.cmds), len(m.resps), m.dec.i
	}
}

// textLine reads one line as text, to its LF, from pos: what comes before
// the CRLF (or LF), and where the next line starts.
func (m *relayServer) textLine(pos int64) (text []byte, next int64, ok bool) {
	i := bytes.IndexByte(m.in[pos:], '\n')
	if i < 0 {
		return nil, 0, false
	}
	next = pos + int64(i) + 1
	return bytes.TrimSuffix(m.in[pos:next-1], []byte("\r")), next, true
}

// relayHead reads a command line's tag and name as the grammar has them
// (RFC 9051: tag = 1*<any ASTRING-CHAR except "+">, SP, the command name,
// an atom up to SP or the line's end, of letters, digits and "-" after a
// first letter, as command names are; after UID, the next one too). A
// server reads a line whose tag is not valid as no command ("* BAD"); it
// answers a tagged line whose name is not a command with "tag BAD" and
// runs nothing. tag is "" when not valid (or longer than maxTag), name ""
// when not valid.
func relayHead(line []byte, maxTag int) (tag, name string) {
	i := 0
	for i < len(line) && isTagChar(line[i]) {
		i++
	}
	if i == 0 || i > maxTag || i == len(line) || line[i] != ' ' {
		return "", ""
	}
	tag = string(line[:i])
	word := func(j int) (string, int) {
		k := j
		for k < len(line) && line[k] != ' ' && line[k] != '\r' && line[k] != '\n' {
			if !isAtomChar(line[k]) {
				return "", k
			}
			k++
		}
		if k == j || k == len(line) {
			return "", k
		}
		for n, c := range line[j:k] {
			if !(c|0x20 >= 'a' && c|0x20 <= 'z' || n > 0 && (c == '-' || c >= '0' && c <= '9')) {
				return "", k // an atom, but no command's name
			}
		}
		return strings.ToUpper(string(line[j:k])), k
	}
	name, j := word(i + 1)
	if name == "UID" {
		name = "" // without a command after it, BAD
		if j < len(line) && line[j] == ' ' {
			if sub, _ := word(j + 1); sub != "" {
				name = "UID " + sub
			}
		}
	}
	return tag, name
}

// isAtomChar: ATOM-CHAR, any CHAR except atom-specials.
func isAtomChar(c byte) bool {
	return c > ' ' && c < 0x7f && !strings.ContainsRune(`(){%*"\]`, rune(c))
}

// isTagChar: ATOM-CHAR except "+", as Dovecot reads a tag (RFC 9051's
// ASTRING-CHAR allows "]" too; Dovecot answers "* BAD Invalid tag").
func isTagChar(c byte) bool { return c != '+' && isAtomChar(c) }

// relayArgs says how the model server reads a command's arguments, as
// Dovecot 2.3 does: it reads want of them, literals included (-1: all
// that the line has), then runs the command and skips the rest of the
// line to its LF, literals not counted: a literal header after its
// arguments ends the line, the server sends the command's completion and
// no "+", and reads what follows as a new command (the body of a "{n+}"
// runs as commands). known is false for a name it does not know, which it
// answers with BAD at once, as it does a tagged line with no valid name.
func relayArgs(name string) (want int, known bool) {
	switch name {
	case "NOOP", "CAPABILITY", "IDLE", "LOGOUT", "CHECK", "CLOSE", "EXPUNGE", "UNSELECT", "NAMESPACE":
		return 0, true
	case "CREATE", "DELETE", "SUBSCRIBE", "UNSUBSCRIBE":
		return 1, true
	case "RENAME", "STATUS":
		return 2, true
	case "LOGIN", "AUTHENTICATE", "SELECT", "EXAMINE", "LIST", "LSUB", "APPEND", "ENABLE", "ID",
		"SEARCH", "FETCH", "STORE", "COPY", "MOVE", "SORT", "THREAD",
		"UID SEARCH", "UID FETCH", "UID STORE", "UID COPY", "UID MOVE", "UID EXPUNGE", "UID SORT", "UID THREAD":
		return -1, true
	}
	return 0, false
}

// command reads the command line at pos and runs it: it returns where the
// server reads next, and false when it cannot go on (the input ends, or a
// limit).
func (m *relayServer) command(pos int64) (int64, bool) {
	// The head, from the line's bytes up to its first LF.
	end := bytes.IndexByte(m.in[pos:], '\n')
	if end < 0 {
		return 0, false
	}
	eol := pos + int64(end) + 1
	tag, name := relayHead(m.in[pos:eol], m.maxTag)
	if tag != "" && name != "" {
		m.cmds = append(m.cmds, relayCmd{pos, tag, name})
	}
	want, known := relayArgs(name)
	if tag == "" || want == 0 {
		// No argument to read: the line is read as text to its first LF
		// (a literal header's, if it has one), and the command runs. A
		// line without a valid tag gets "* BAD" (Dovecot: "Invalid tag").
		switch {
		case tag == "":
			m.send(eol, "* BAD invalid tag")
		case !known:
			m.send(eol, tag+" BAD unknown command")
		case name == "IDLE":
			return m.idle(tag, eol)
		default:
			m.send(eol, tag+" OK done")
		}
		return eol, true
	}
	// The arguments are read from the space after the tag: Dovecot's
	// parser has no status lines, so the tokenizer's line head (which
	// reads the text of "tag OK ...", "+ ..." or "[code] ...") must not
	// decide for the model what a client's command holds.
	args := pos + int64(len(tag))
	m.rd.Reset(m.in[args:])
	m.tk.Reset(&m.rd)
	base := m.tk.Offset()
	at := func() int64 { return args + m.tk.Offset() - base }
	bad := tag + " BAD"
	// sp counts the spaces outside parentheses: the literal at the end of
	// m.line belongs to argument sp-1 ("tag SP name SP arg1 SP arg2").
	sp, depth := 0, 0
	for {
		var err error
		m.line, err = m.tk.AppendUntilLiteral(m.line[:0])
		if err == nil || errors.Is(err, wire.ErrTooManyTokens) {
			for _, tok := range m.line {
				switch tok.Kind {
				case wire.KindLParen:
					depth++
				case wire.KindRParen:
					depth = max(depth-1, 0)
				case wire.KindSP:
					if depth == 0 {
						sp++
					}
				}
			}
		}
		if errors.Is(err, wire.ErrTooManyTokens) {
			continue
		}
		if errors.Is(err, wire.ErrSyntax) {
			// Not the grammar: the server answers BAD and skips to the LF.
			off := at()
			i := bytes.IndexByte(m.in[off:], '\n')
			if i < 0 {
				return 0, false
			}
			m.send(off+int64(i)+1, bad+" syntax")
			return off + int64(i) + 1, true
		}
		if err != nil {
			return 0, false
		}
		last := m.line[len(m.line)-1]
		if last.Kind == wire.KindLiteral {
			if want >= 0 && sp-1 > want {
				// The command has its arguments: the header's LF ends
				// the line, and the command runs (no "+").
				m.send(at(), tag+" OK done")
				return at(), true
			}
			if !last.Literal().NonSync {
				if m.dec.next()&1 == refuse {
					m.send(at(), tag+" NO refused")
					if err := m.tk.RefuseLiteral(); err != nil {
						panic(err)
					}
					return at(), true
				}
				m.sendPlus(at(), "+ go", plusLit)
			}
			lr, err := m.tk.LiteralReader()
			if err != nil {
				return 0, false
			}
			if n, err := io.Copy(io.Discard, lr); err != nil || n < int64(last.Num) {
				return 0, false
			}
			continue
		}
		// The line's end.
		pos = at()
		switch {
		case name == "AUTHENTICATE":
			return m.authenticate(tag, pos)
		default:
			m.send(pos, tag+" OK done")
		}
		return pos, true
	}
}

func (m *relayServer) authenticate(tag string, pos int64) (int64, bool) {
	c := m.dec.next()
	for range c & 3 % 3 {
		m.sendPlus(pos, "+ c", plusSASL)
		text, next, ok := m.textLine(pos)
		if !ok {
			return 0, false
		}
		pos = next
		if string(text) == "*" {
			m.send(pos, tag+" BAD cancelled")
			return pos, true
		}
	}
	if c&4 == 0 {
		m.send(pos, tag+" OK authenticated")
	} else {
		m.send(pos, tag+" NO failed")
	}
	return pos, true
}

func (m *relayServer) idle(tag string, pos int64) (int64, bool) {
	if m.dec.next()&1 == refuse {
		m.send(pos, tag+" NO no idle")
		return pos, true
	}
	m.sendPlus(pos, "+ idling", plusIdle)
	text, next, ok := m.textLine(pos)
	if !ok {
		return 0, false
	}
	if bytes.EqualFold(text, []byte("DONE")) {
		m.send(next, tag+" OK idle done")
	} else {
		m.send(next, tag+" BAD expected DONE")
	}
	return next, true
}

// relayProxy is the client direction of docs/proxy.md's loop, with the
// server direction reduced to passing the model's responses to d.Server.
type relayProxy struct {
	d      wire.Dialog
	srv    *relayServer
	next   int // the next response to pass to d.Server
	sched  *choices
	client []byte
	out    bytes.Buffer // what was forwarded to the server
	cpos   int64        // the client's bytes up to here are forwarded or dropped
	cmds   []relayCmd   // offsets in out
	cmdAt  []int64      // the offset in client of each of cmds
	// litNonSync: for each literal header forwarded, by the offset in out
	// where it ends, whether the client sent it as non-synchronizing.
	litNonSync map[int64]bool
	dropped    [][2]int64 // ranges of the client's bytes dropped
	stop       string
	stray      bool   // the Dialog called a server's "+" Stray: the proxy closes
	fail       string // what broke the property in deliver
	log        []string

	srvTk   *wire.Tokenizer
	srvRd   bytes.Reader
	srvLine []wire.Token
}

// deliver passes the next response to d.Server, if the server has sent it
// (it has read what caused it): false if not. It checks that a "+" is
// withheld from the client exactly when the client did not ask for it.
func (p *relayProxy) deliver() bool {
	p.srv.feed(p.out.Bytes())
	if p.next >= len(p.srv.resps) || p.srv.resps[p.next].after > int64(p.out.Len()) {
		return false
	}
	r := p.srv.resps[p.next]
	p.next++
	p.srvRd.Reset(r.line)
	p.srvTk.Reset(&p.srvRd)
	var err error
	p.srvLine, err = p.srvTk.AppendUntilLiteral(p.srvLine[:0])
	if err != nil {
		panic(fmt.Sprintf("the response %q: %v", r.line, err))
	}
	ev := p.d.Server(p.srvLine)
	p.log = append(p.log, fmt.Sprintf("S %q %v withhold=%v stray=%v", bytes.TrimSuffix(r.line, []byte("\r\n")), ev.Kind, ev.Withhold, ev.Stray))
	if ev.Stray {
		// As cmd/imapkit's serverToClient: out of step, the proxy
		// closes the connection (run stops at its next step).
		p.stray = true
	}
	if ev.Stray {
		// Not relayed: the proxy closes the connection.
	} else if r.plus != 0 && p.fail == "" {
		// The client asked for this "+" unless it is the go-ahead for a
		// literal the client sent as non-synchronizing.
		asked := r.plus != plusLit || !p.litNonSync[r.after]
		if ev.Withhold == asked {
			what := "asked for it"
			if !asked {
				what = "sent that literal as non-synchronizing: it expects no \"+\""
			}
			p.fail = fmt.Sprintf("the server's %q (sent after %d) came with Withhold %v (%v); the client %s", r.line, r.after, ev.Withhold, ev.Kind, what)
		}
	} else if ev.Withhold && p.fail == "" {
		p.fail = fmt.Sprintf("the server's %q came with Withhold", r.line)
	}
	return true
}

// schedule delivers what the scheduling chooses here (0 to 3 responses).
func (p *relayProxy) schedule() {
	for range p.sched.next() % 4 {
		if !p.deliver() {
			return
		}
	}
}

// clientWait is d.ClientWait with the responses delivered as it waits: it
// returns false if the proxy stalls (no response left to deliver).
func (p *relayProxy) clientWait(line []wire.Token) (wire.Event, bool) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	// ClientWait tells a line that needs no word at once, whatever ctx.
	if ev, err := p.d.ClientWait(cancelled, line); err == nil {
		return ev, true
	}
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		ev  wire.Event
		err error
	}
	res := make(chan result, 1)
	go func() {
		ev, err := p.d.ClientWait(ctx, line)
		res <- result{ev, err}
	}()
	for {
		synctest.Wait() // ClientWait returned or waits for good
		select {
		case r := <-res:
			cancel()
			if r.err != nil {
				panic(r.err)
			}
			return r.ev, true
		default:
		}
		if !p.deliver() {
			cancel()
			if r := <-res; r.err == nil {
				return r.ev, true // raced with cancel: cannot happen after Wait
			}
			if ev, err := p.d.ClientWait(cancelled, line); err == nil {
				panic(fmt.Sprintf("ClientWait stayed waiting though it could tell the line: %+v (a lost wake-up)", ev))
			}
			return wire.Event{}, false
		}
	}
}

// waitContinuation is d.WaitContinuation with the responses delivered as
// it waits: ok is false if the proxy stalls.
func (p *relayProxy) waitContinuation() (goAhead, ok bool) {
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		ok  bool
		err error
	}
	res := make(chan result, 1)
	go func() {
		ok, err := p.d.WaitContinuation(ctx)
		res <- result{ok, err}
	}()
	for {
		synctest.Wait()
		select {
		case r := <-res:
			cancel()
			if r.err != nil {
				panic(r.err)
			}
			return r.ok, true
		default:
		}
		if !p.deliver() {
			cancel()
			r := <-res
			if r.err == nil {
				panic("WaitContinuation returned after Wait found it waiting")
			}
			return false, false
		}
	}
}

// forward runs f, one of tk's forwarding calls, on what goes to the server
// and checks what it wrote: the client's bytes from where the last one
// ended up to what tk consumed, unchanged, but for the '+' of a
// non-synchronizing literal's header when asSync. It returns what went
// wrong ("" if nothing) and f's error.
func (p *relayProxy) forward(tk *wire.Tokenizer, asSync bool, f func(io.Writer) error) (string, error) {
	from := p.out.Len()
	if err := f(&p.out); err != nil {
		return "", err
	}
	sent := p.client[p.cpos:tk.Offset()]
	want := sent
	if asSync && bytes.HasSuffix(want, []byte("+}\r\n")) {
		want = slices.Concat(want[:len(want)-4], []byte("}\r\n"))
	}
	if got := p.out.Bytes()[from:]; !bytes.Equal(got, want) {
		return fmt.Sprintf("relayed %q where the client sent %q (at %d)", got, sent, p.cpos), nil
	}
	p.cpos = tk.Offset()
	return "", nil
}

// forwardOrFail is forward for a call that must not fail: what went wrong,
// the call's error included.
func (p *relayProxy) forwardOrFail(tk *wire.Tokenizer, asSync bool, name string, f func(io.Writer) error) string {
	msg, err := p.forward(tk, asSync, f)
	if msg == "" && err != nil {
		msg = name + ": " + err.Error()
	}
	return msg
}

// run is the loop of docs/proxy.md; it returns what went wrong, "" if
// nothing (a stall, the end of the input or a line the tokenizer refuses
// end it: p.stop).
func (p *relayProxy) run(client []byte, pieces uint8) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprintf("panic: %v", r)
		}
	}()
	p.srvTk = wire.NewTokenizer(&p.srvRd, &wire.TokenizerOptions{BufferSize: 256})
	// The client's commands, as cmd/imapkit's proxy reads them: no line
	// is a status line ("a1 OK {5+}" has its literal).
	opts := &wire.TokenizerOptions{BufferSize: 512, Commands: true}
	if pieces != 0 {
		opts.MaxLineTokens = relayMaxLineTokens(pieces)
	}
	tk := wire.NewTokenizer(bytes.NewReader(client), opts)
	fwd := func(w io.Writer) error { _, err := tk.Forward(w); return err }
	var line []wire.Token
	var ev wire.Event
	start := true
	for steps := 0; ; steps++ {
		if steps > 4*len(client)+64 {
			return "the loop does not end"
		}
		if p.fail != "" {
			return p.fail
		}
		if p.stray {
			p.stop = "a stray \"+\": the proxy closes the connection"
			return ""
		}
		p.schedule()
		lineStart := tk.Offset()
		if start && p.cpos != lineStart {
			return fmt.Sprintf("a line starts at %d, but the client's bytes are forwarded or dropped up to %d", lineStart, p.cpos)
		}
		var err error
		line, err = tk.AppendUntilLiteral(line[:0])
		more := errors.Is(err, wire.ErrTooManyTokens)
		if more {
			err = nil
		}
		if err != nil && !(start && errors.Is(err, wire.ErrSyntax)) {
			// The end of the input, a limit, a line the tokenizer refuses
			// after a part of it went up: the proxy stops (closes).
			p.stop = err.Error()
			return ""
		}
		if start {
			var ok bool
			if ev, ok = p.clientWait(line); !ok {
				p.stop = "stalled in ClientWait"
				return ""
			}
			p.log = append(p.log, fmt.Sprintf("C@%d %+v", lineStart, ev))
			if err != nil || ev.Kind == wire.LineCommand && !ev.Raw && (ev.Tag == "" || ev.Command == "") {
				// As cmd/imapkit's refusal: a line that does not tokenize,
				// or without a tag or a command name, is answered by the
				// proxy (Answered) and none of it relayed.
				if err != nil && ev.Raw {
					p.stop = "a raw line that does not tokenize: the proxy closes"
					return ""
				}
				var skipErr error
				if err != nil {
					skipErr = tk.RefuseLine()
				} else {
					skipErr = tk.RefuseCommand(line)
				}
				if skipErr != nil {
					p.stop = "refusing: " + skipErr.Error()
					return ""
				}
				p.d.Answered()
				p.log = append(p.log, fmt.Sprintf("refused@%d..%d", lineStart, tk.Offset()))
				p.dropped = append(p.dropped, [2]int64{p.cpos, tk.Offset()})
				p.cpos = tk.Offset()
				start = true
				continue
			}
			if ev.Kind == wire.LineCommand {
				p.cmds = append(p.cmds, relayCmd{int64(p.out.Len()), ev.Tag, ev.Command})
				p.cmdAt = append(p.cmdAt, lineStart)
			}
			start = false
		}
		if more {
			if msg := p.forwardOrFail(tk, false, "Forward", fwd); msg != "" {
				return msg
			}
			continue
		}
		if last := line[len(line)-1]; last.Kind == wire.KindLiteral {
			if ev.Raw {
				if msg := p.forwardOrFail(tk, false, "Forward", fwd); msg != "" {
					return msg
				}
				if err := tk.RefuseLiteral(); err != nil {
					return "RefuseLiteral: " + err.Error()
				}
				start = true
				continue
			}
			// As cmd/imapkit's clientToServer: every literal waits for the
			// server's word, a non-synchronizing one forwarded as
			// synchronizing; its "+" comes withheld (deliver checks it).
			lit := last.Literal()
			p.schedule()
			// false: the command was completed already; the header goes
			// up all the same and the literal counts as refused.
			expect := p.d.ExpectContinuation(lit)
			p.schedule()
			asSync := func(w io.Writer) error { _, err := tk.ForwardAsSync(w); return err }
			if msg := p.forwardOrFail(tk, lit.NonSync, "ForwardAsSync", asSync); msg != "" {
				return msg
			}
			p.litNonSync[int64(p.out.Len())] = lit.NonSync
			goAhead, ok := false, true
			if expect {
				goAhead, ok = p.waitContinuation()
			}
			if !ok {
				p.stop = "stalled in WaitContinuation"
				return ""
			}
			p.log = append(p.log, fmt.Sprintf("literal@%d nonsync=%v go-ahead %v", tk.Offset(), lit.NonSync, goAhead))
			if !goAhead {
				if lit.NonSync {
					// The client sent the body: it and the rest of the
					// command are dropped, as the server did not read them.
					if err := tk.RefuseCommand(line); err != nil {
						p.stop = "RefuseCommand: " + err.Error()
						return ""
					}
					p.dropped = append(p.dropped, [2]int64{p.cpos, tk.Offset()})
					p.cpos = tk.Offset()
				} else if err := tk.RefuseLiteral(); err != nil {
					return "RefuseLiteral: " + err.Error()
				}
				start = true
				continue
			}
			fwdLit := func(w io.Writer) error { _, err := tk.ForwardLiteral(w); return err }
			if msg, err := p.forward(tk, false, fwdLit); msg != "" {
				return msg
			} else if err != nil {
				p.stop = "ForwardLiteral: " + err.Error()
				return ""
			}
			continue
		}
		if msg := p.forwardOrFail(tk, false, "Forward", fwd); msg != "" {
			return msg
		}
		start = true
	}
}
