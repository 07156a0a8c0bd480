package wire

import (
	"context"
	"strings"
	"sync"
)

// LineKind says what a line of an IMAP conversation is, as Dialog tells it.
type LineKind uint8

// The kinds of line Dialog tells apart.
const (
	// LineCommand is a client's command: a tag, a name, arguments.
	LineCommand LineKind = iota + 1
	// LineSASL is a line of a SASL exchange (AUTHENTICATE): from the
	// client a base64 response or "*" (cancel), from the server a
	// challenge ("+ base64"). Both may carry credentials.
	LineSASL
	// LineDone is the client's DONE that ends IDLE.
	LineDone
	// LineContinuation is a server's "+" that is not a SASL challenge: the
	// go-ahead for a synchronizing literal, or IDLE accepted.
	LineContinuation
	// LineUntagged is a server's untagged response ("* ...").
	LineUntagged
	// LineCompletion is a server's tagged response: it completes a command.
	LineCompletion
)

var lineKindNames = [...]string{"", "command", "sasl", "done", "continuation", "untagged", "completion"}

// String returns the kind's name.
func (k LineKind) String() string {
	if int(k) < len(lineKindNames) && k != 0 {
		return lineKindNames[k]
	}
	return "invalid"
}

// Event is what Dialog tells about one line.
type Event struct {
	Kind LineKind
	// Tag is the command's tag (LineCommand, LineCompletion): the bytes up
	// to the first space, as a server reads them. "" when a client line has
	// no valid tag: it begins with a space, a quoted string, a parenthesis,
	// "*", "+" or a literal, its first word has a byte no tag may have
	// ('%', '*', '+', a control or 8-bit byte), or it is empty (Dovecot
	// answers such a line "* BAD Invalid tag" and reads no literal on it).
	// Command may still be set.
	Tag string
	// Command is the command's name in upper case: for a LineCommand, its
	// own; for a LineCompletion, the name of the command it completes, when
	// that command was seen ("" otherwise).
	Command string
	// Status is OK, NO or BAD (upper case) for a LineCompletion.
	Status string
	// Raw is set for a client line the server reads to its end as text,
	// without literals: a SASL response, and a line that answers an
	// accepted IDLE (DONE, or what the server takes for it and answers
	// BAD). A "{n}" or "{n+}" at the end of such a line is text to the
	// server, not a literal header: a proxy forwards the line up to there
	// and calls Tokenizer.RefuseLiteral (the line ends there), never reads
	// a body. Relaying the next bytes as a body would hide from it the
	// command the server reads there.
	Raw bool
	// Withhold is set for a server's "+" that answers a literal the client
	// sent as non-synchronizing ("{n+}") and the caller forwarded as
	// synchronizing (ExpectContinuation with NonSync set): the client
	// expects no "+" there, so a proxy does not forward this line.
	Withhold bool
	// Stray is set for a server's "+" that is no SASL challenge (during
	// AUTHENTICATE), no IDLE's go-ahead (its first "+") and no go-ahead for
	// a literal that awaits the server's word (ExpectContinuation); and for
	// a "+" during AUTHENTICATE while a literal on the AUTHENTICATE line
	// itself awaits it (a go-ahead or a challenge: no telling). The server
	// is reading something as a literal that the relay does not (they are
	// out of step): a proxy that calls ExpectContinuation for every client
	// literal closes the connection. (A tracer that calls Client alone sees
	// every literal's "+" as Stray.) Stray is also set for a completion
	// whose tag is no pending command's (after Client forgot commands, one
	// of theirs is not called Stray): the server ran a command the relay
	// did not see as one; too late to refuse it, but a proxy closes the
	// connection before anything more gets through.
	Stray bool
	// MaybeSASL is set for a client's LineCommand that the client may
	// have sent as a line of an AUTHENTICATE exchange, a SASL response
	// (a credential), though the server reads it as a command. Such are,
	// after the exchange ended (the server's completion, or Answered),
	// the next line when a challenge was left unanswered (the client,
	// having read the "+", sends its response before it reads the
	// completion), whatever its shape; then every line of one word (no
	// space between two tokens, as in a base64 response, "*" or an empty
	// line) up to the first of two (a command's shape, which ends the
	// rule); the lines of one word after an AUTHENTICATE that began no
	// exchange (a line without a tag, "a%1 AUTHENTICATE PLAIN", one
	// typed without its tag, "AUTHENTICATE PLAIN", which the server
	// answers BAD, or one the server reads as IDLE's answer: its client
	// may send its response ahead all the same), up to the first of two
	// words; and a line of one word that Client tells during the
	// exchange before the server's next word (see Client). A tracer
	// prints such a line redacted, as a LineSASL; a proxy that answers it itself does
	// not echo its first word (the whole of a SASL response) unless the
	// line has a command's shape, two words read whole with no literal
	// (then its tag, for which its client waits). A filter reads it as
	// the command the server reads (a line of one word is no valid
	// command).
	MaybeSASL bool
	// LikelySASL is set with MaybeSASL for the lines most likely meant as
	// SASL responses: the next line after an exchange that ended with a
	// challenge unanswered (the response the client owes it), and a line
	// Client tells during the exchange before the server's next word. The
	// other MaybeSASL lines (of one word, after the exchange ended: a
	// response sent ahead of a refusal, or a command typed without its
	// tag, "CAPABILITY") may be either: a tracer that keeps what it
	// redacts, to redact the server's echo of it, keeps every word of a
	// LikelySASL line, and of the others the words that look like a SASL
	// response (base64), so as not to blot a command's name out of the
	// server's lines.
	LikelySASL bool
	// Unspaced is set for a LineCompletion whose Status is OK that a
	// strict reader does not take for an OK (the codec reads it as a
	// DecodeError, expected SP): the line begins with a space, or its
	// status word is followed by neither SP nor the line's end ("a1
	// OK{5}", "a1 OK(x)", "a1 OK[ALERT] x", "a1 OK\"x\"", or no token read
	// after it). "a1 OK" and the line's end (no text) is an OK, as the
	// codec reads it. A server may switch on such an OK to STARTTLS or
	// COMPRESS while an imapkit client does not: a proxy carries out
	// neither on it, but closes the connection (neither side can be
	// followed), and a filter does not take it for a success.
	//
	// Unspaced is read from the tokens Server is given and covers that
	// case alone: an OK the codec rejects for another reason has it
	// unset. Such are a line over the line bound (the tokenizer's
	// ErrLineTooLong after "a1 OK ", the rest relayed in pieces; the
	// codec, with the same default bound, reads it as too long), which
	// the caller tells apart itself (imapkit proxy closes on such a
	// STARTTLS or COMPRESS completion too); and a tag the codec does not
	// take for one, which the Dialog reads up to the first SP ("a[1] OK",
	// "a]1 OK", "a%1 OK": for the codec a syntax error after "a").
	Unspaced bool
}

// Dialog follows the state that the two directions of one IMAP connection
// share, for a proxy or a tracer that reads each direction with its own
// Tokenizer (in its own goroutine: a Dialog is safe for concurrent use):
// the client's with TokenizerOptions.Commands, so that a command whose
// name is OK or BYE, or whose line begins with '+' or '[', has the
// literals its server reads (read as a server's line, "a1 OK {5+}" is a
// status response whose "{5+}" is text, and the literal's body a line of
// its own to the Dialog and a filter, while a server that reads a
// command's arguments first reads it as the literal: the two disagree
// from there on where each command begins).
// Tokens alone cannot tell a client's SASL response or DONE from a
// command, nor a server's SASL challenge from another "+": that takes
// knowing what the other side said. Call Client for every line the client
// sends and Server for every line the server sends, with the line's
// tokens up to its end or its first literal (AppendUntilLiteral's), each
// before the line is forwarded: the peer cannot answer a line it has not
// received, so the two calls see the conversation in its order.
//
// The rules it applies: after a client's AUTHENTICATE, every server "+"
// is a challenge, and the client line that answers it a SASL response,
// until the server completes that command (tagged OK, NO or BAD); a client
// line that answers no challenge is a command, as the server reads it (a
// client that pipelines a command after AUTHENTICATE with an initial
// response must not hide it from a filter as a SASL line). After a
// client's IDLE, a client line "DONE" ends it. A tagged server line
// completes the command with that tag, which Event names, so that the
// caller can act on STARTTLS or COMPRESS accepted (both directions change
// their stream after it).
//
// A client's synchronizing literal needs the server's word: the client
// sends its body only after the server's "+", and when the server refuses
// the command instead (a tagged NO or BAD, such as APPEND's [TRYCREATE]),
// the body never comes and the client's next line is a new command. A
// proxy that went on to relay the announced bytes as the body would take
// that command for literal data, out of step with the server. So the
// client direction calls ExpectContinuation before it forwards such a
// literal's header and WaitContinuation after (see their docs).
//
// A non-synchronizing literal ("{n+}", LITERAL+ or LITERAL-) has no
// server's word, and servers do not always read one: Dovecot 2.3 skips the
// rest of a line to its LF once it has a command's arguments, or for a
// command it does not know, so the 18 bytes after "a NOOP {18+}" run as a
// command of their own, while after "a SELECT {5+}" they are the mailbox
// name. Which it is depends on each command's grammar in each server. A
// proxy that filters or traces commands therefore forwards such a header
// as synchronizing (Tokenizer.ForwardAsSync) and asks for the server's
// word as for any other literal (ExpectContinuation with the literal's
// LiteralInfo); it holds the body back until the "+", which it does not
// forward (Event.Withhold), and drops the body and the rest of the command
// when the server completes the command instead. This costs a round trip
// per such literal.
type Dialog struct {
	mu       sync.Mutex
	sasl     string // tag of the AUTHENTICATE in progress
	saslTurn bool   // the server sent a challenge the client has not answered
	// saslAhead: client lines of the exchange sent before a challenge
	// (taken for commands): the server reads them as responses to the
	// challenges it sends next.
	saslAhead int
	// saslOwed: the exchange ended with a challenge unanswered: the
	// client's next line is its response (Event.MaybeSASL), whatever its
	// shape. saslAfter: an exchange ended: the client's lines of one word
	// are MaybeSASL up to the first of two words.
	saslOwed, saslAfter bool
	idle                string // tag of the IDLE in progress
	idlePlus            bool   // the IDLE awaits its "+", which is no literal's go-ahead
	// idleDone: the client line that ends the IDLE was seen (the one the
	// server reads as its answer, or a DONE): the next lines are commands,
	// though the IDLE's completion has not come yet.
	idleDone bool
	tags     []pending // commands not completed yet, oldest first
	nextID   uint64    // the id of the last command recorded
	// saslID, idleID: the pending entry of the AUTHENTICATE or IDLE in
	// progress, so that only its own completion ends it (a client may
	// reuse a tag: an earlier command's completion with the same tag does
	// not end it).
	saslID, idleID uint64
	// curID is the pending entry of the client's last command, 0 when it
	// had no tag.
	curID uint64
	// litID is the pending entry of the command whose synchronizing
	// literal awaits the server's word: its completion is the refusal
	// (an earlier command's with the same tag is not). 0: unknown (the
	// command has no tag, or pending commands were forgotten, so that a
	// forgotten one's completion could be taken for it): only "+" ends
	// the wait.
	litID   uint64
	lost    bool      // pending commands were forgotten (more than maxPending)
	lit     chan bool // holds the server's word until WaitContinuation takes it
	litOpen bool      // the server's word on lit has not come
	// litQuiet: the literal awaiting the server's word was sent by the
	// client as non-synchronizing: its "+" is not the client's to see.
	litQuiet bool
	// word, when not nil, is closed when the server's next word on
	// AUTHENTICATE or IDLE comes (ClientWait waits for it).
	word chan struct{}
}

// pending is a command a Dialog saw and whose completion has not come.
type pending struct {
	tag, name string
	id        uint64
}

// maxPending bounds the commands a Dialog remembers without a completion.
const maxPending = 1024

// Client tells what the client's line is and records what it changes. It
// does not wait: a line the client sends during AUTHENTICATE before the
// server's challenge, or after IDLE before the server's "+", is read by the
// server according to what the server says next, which Client cannot know
// yet; it calls such a line a command (so a filter sees it), though the
// server may read it as a SASL response or IDLE's DONE (during
// AUTHENTICATE, one of one word with Event.MaybeSASL set: it may be a
// credential). A tracer can live with that; a proxy that filters calls
// ClientWait.
func (d *Dialog) Client(line []Token) Event {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.clientLocked(line)
}

// ClientWait is Client for a proxy: a line whose reading depends on the
// server's next word (sent during AUTHENTICATE before a challenge, or after
// IDLE before the server's "+") waits for that word: the challenge makes
// it a SASL response, IDLE's "+" makes it IDLE's answer, the command's
// completion makes it a command. A command while 1,024 commands await
// their completion waits for one: a Dialog remembers that many, and one
// that forgot a command could take its completion for a later command's
// with the same tag (Client forgets the oldest instead; a proxy that calls
// ClientWait never makes it forget). Other lines are told at once. It
// returns ctx's error if ctx ends first (cancel ctx when the server's
// direction ends).
func (d *Dialog) ClientWait(ctx context.Context, line []Token) (Event, error) {
	for {
		d.mu.Lock()
		if !d.waitsLocked(line) {
			ev := d.clientLocked(line)
			d.mu.Unlock()
			return ev, nil
		}
		if d.word == nil {
			d.word = make(chan struct{})
		}
		ch := d.word
		d.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// WouldWait reports whether ClientWait would wait before telling line. A
// relay that buffers what it forwards flushes first when it would: the
// server's word that ClientWait waits for may be an answer to a command
// still in the relay's buffer. Once false, it stays false for that line
// until ClientWait is called (the server's lines only end waits).
func (d *Dialog) WouldWait(line []Token) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.waitsLocked(line)
}

func (d *Dialog) waitsLocked(line []Token) bool {
	return d.sasl != "" && !d.saslTurn || d.idle != "" && d.idlePlus ||
		len(d.tags) >= maxPending && d.pendsLocked(line)
}

// pendsLocked reports whether clientLocked would record line as a pending
// command (a tagged line that is no SASL response or IDLE's answer).
func (d *Dialog) pendsLocked(line []Token) bool {
	if d.sasl != "" && d.saslTurn || d.idle != "" && !d.idleDone {
		return false
	}
	tag, _ := lineHead(line)
	return tag != "" && validTag(tag) && !(len(line) > 0 && line[0].Kind == KindSP)
}

// wakeLocked lets a ClientWait waiting for the server's word go on.
func (d *Dialog) wakeLocked() {
	if d.word != nil {
		close(d.word)
		d.word = nil
	}
}

func (d *Dialog) clientLocked(line []Token) Event {
	// maybe: a line the client may have meant as a SASL response;
	// likely: one it most likely did (Event.LikelySASL).
	maybe, likely := false, false
	switch {
	case d.sasl != "":
		if d.saslTurn {
			d.saslTurn = false
			return Event{Kind: LineSASL, Raw: true}
		}
		d.saslAhead++ // a command, unless a challenge comes for it
		// A response if one comes; a command pipelined after an initial
		// response (SASL-IR) has two words, no response has.
		maybe = !spacedLine(line)
		likely = maybe
	case d.saslOwed || d.saslAfter:
		twoWords := spacedLine(line)
		maybe = d.saslOwed || !twoWords
		likely = d.saslOwed
		d.saslOwed = false
		d.saslAfter = d.saslAfter && !twoWords
	}
	ev := d.tellClientLocked(line)
	ev.MaybeSASL = maybe && ev.Kind == LineCommand
	ev.LikelySASL = likely && ev.MaybeSASL
	if d.sasl == "" && ev.Kind == LineCommand && untrackedAuthenticate(ev, line) {
		// An AUTHENTICATE that began no exchange (the server answers it
		// BAD and reads no response): its client, which took it for one,
		// may send its responses ahead all the same, and the server
		// reads each as a command. The lines that follow are read as
		// after an exchange that ended.
		d.saslOwed, d.saslAfter = false, true
	}
	return ev
}

// untrackedAuthenticate reports whether ev, a client's line that began no
// exchange, names AUTHENTICATE all the same: it has no tag as a server
// reads it ("a%1 AUTHENTICATE PLAIN", " a1 AUTHENTICATE PLAIN"), or
// AUTHENTICATE is its first word (typed without its tag, which the server
// reads as the tag "AUTHENTICATE" and the command "PLAIN") or its second
// (a line the server reads as IDLE's answer, Raw).
func untrackedAuthenticate(ev Event, line []Token) bool {
	if ev.Tag == "" && ev.Command == "AUTHENTICATE" {
		return true
	}
	for i := range 2 {
		if w := lineWord(line, i); w.Kind == KindAtom && strings.EqualFold(string(w.b), "AUTHENTICATE") {
			return true
		}
	}
	return false
}

// endSASLLocked ends the AUTHENTICATE exchange in progress: the client's
// lines that follow may still be meant for it (Event.MaybeSASL).
func (d *Dialog) endSASLLocked() {
	d.saslOwed, d.saslAfter = d.saslTurn, true
	d.sasl, d.saslTurn, d.saslAhead = "", false, 0
}

// spacedLine reports whether line has a space between two tokens: no
// SASL response (base64, "*" or empty) has one; a command has.
func spacedLine(line []Token) bool {
	seen, gap := false, false
	for _, tok := range line {
		switch tok.Kind {
		case KindCRLF:
		case KindSP:
			gap = seen
		default:
			if gap {
				return true
			}
			seen = true
		}
	}
	return false
}

// tellClientLocked is clientLocked for a line that is no SASL response.
func (d *Dialog) tellClientLocked(line []Token) Event {
	first, second := lineWords(line)
	if d.idle != "" && !d.idleDone {
		// With the IDLE accepted, the server reads this line as its
		// DONE (or answers BAD and ends the IDLE): as text. It reads the
		// next line as a command, whether the IDLE's completion came
		// already or not.
		raw := !d.idlePlus
		if second.Kind == 0 && first.Kind == KindAtom && strings.EqualFold(string(first.b), "DONE") {
			d.idleDone = true
			return Event{Kind: LineDone, Raw: raw}
		}
		if raw {
			d.idleDone = true
			return Event{Kind: LineCommand, Raw: true}
		}
	}
	ev := Event{Kind: LineCommand}
	tag, rest := lineHead(line)
	if len(line) > 0 && line[0].Kind == KindSP || !validTag(tag) {
		// No tag, as Dovecot reads it; the command is named all the same,
		// for a filter, in case a server reads one there.
		tag = ""
	}
	ev.Tag = tag
	if name, ok := commandWord(lineWord(rest, 0)); ok {
		ev.Command = name
		if ev.Command == "UID" {
			if third, ok := commandWord(lineWord(rest, 1)); ok {
				ev.Command += " " + third
			}
		}
	}
	d.curID = 0
	// Every tagged line is pending, with a name or not: the server
	// completes it with its tag (a BAD for "a1" alone).
	if ev.Tag != "" {
		if len(d.tags) >= maxPending {
			d.tags = append(d.tags[:0], d.tags[1:]...)
			d.lost = true
		}
		d.nextID++
		d.tags = append(d.tags, pending{tag: ev.Tag, name: ev.Command, id: d.nextID})
		d.curID = d.nextID
		switch ev.Command {
		case "AUTHENTICATE":
			d.sasl, d.saslID = ev.Tag, d.nextID
		case "IDLE":
			d.idle, d.idlePlus, d.idleDone, d.idleID = ev.Tag, true, false, d.nextID
		}
	}
	return ev
}

// Server tells what the server's line is and records what it changes.
func (d *Dialog) Server(line []Token) Event {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch lineWord(line, 0).Kind {
	case KindPlus:
		if d.sasl != "" && d.litOpen && d.litID != 0 && d.litID == d.saslID {
			// A literal on the AUTHENTICATE line itself (no grammar has
			// one there): this "+" may be its go-ahead or a challenge
			// from a server that skipped it. Refused, and out of step.
			d.verdictLocked(false)
			d.wakeLocked()
			return Event{Kind: LineSASL, Stray: true}
		}
		if d.sasl != "" {
			if d.saslAhead > 0 {
				d.saslAhead-- // answered by a line already sent
			} else {
				d.saslTurn = true
			}
			d.wakeLocked()
			return Event{Kind: LineSASL}
		}
		if d.idlePlus {
			// IDLE accepted: the server answers in order, and the IDLE
			// came before any literal awaiting its word. A literal on the
			// IDLE's own line is refused: the server, idling, reads its
			// body as a line of text (IDLE's DONE, or a BAD).
			d.idlePlus = false
			if d.litOpen && d.litID != 0 && d.litID == d.idleID {
				d.verdictLocked(false)
			}
			d.wakeLocked()
			return Event{Kind: LineContinuation}
		}
		ev := Event{Kind: LineContinuation, Withhold: d.litOpen && d.litQuiet, Stray: !d.litOpen}
		d.verdictLocked(true)
		return ev
	case KindStar:
		return Event{Kind: LineUntagged}
	}
	tag, rest := lineHead(line)
	ev := Event{Kind: LineCompletion, Tag: tag}
	if status := lineWord(rest, 0); status.Kind == KindAtom {
		ev.Status = strings.ToUpper(string(status.b))
	}
	ev.Unspaced = ev.Status == "OK" && okUnspaced(line)
	var done uint64 // the id of the command completed, 0 if none is known
	for i := range d.tags {
		if d.tags[i].tag == ev.Tag {
			ev.Command, done = d.tags[i].name, d.tags[i].id
			d.tags = append(d.tags[:i], d.tags[i+1:]...)
			d.wakeLocked() // a ClientWait may wait for room
			break
		}
	}
	if done == 0 && !d.lost {
		// A completion of no command d saw: the server ran a command
		// that the relay did not see as one.
		ev.Stray = true
	}
	if len(d.tags) == 0 {
		d.lost = false // every command remembered is complete: in step again
	}
	if d.litOpen && done != 0 && done == d.litID {
		d.verdictLocked(false) // refused: its body will not come
	}
	// The completion of the AUTHENTICATE or IDLE itself ends it; with
	// no pending entry for the tag (forgotten: Client keeps maxPending),
	// the tag alone decides. (With commands forgotten, a completion may
	// also be taken for a later command's with the same tag: a tracer's
	// imprecision; ClientWait forgets none.)
	if d.sasl != "" && (done == d.saslID || done == 0 && ev.Tag == d.sasl) {
		d.endSASLLocked()
		d.wakeLocked()
	}
	if d.idle != "" && (done == d.idleID || done == 0 && ev.Tag == d.idle) {
		d.idle, d.idlePlus, d.idleDone = "", false, false
		d.wakeLocked()
	}
	return ev
}

// okUnspaced reports whether line, the first tokens of a server's tagged
// OK, has no SP after the status word and does not end there, or begins
// with a space (Event.Unspaced).
func okUnspaced(line []Token) bool {
	if len(line) == 0 || line[0].Kind == KindSP {
		return true
	}
	i := 0 // the tag may be several tokens ("a[1]"): up to the first SP
	for i < len(line) && line[i].Kind != KindSP {
		i++
	}
	i += 2 // the SP, the status word
	return i >= len(line) || line[i].Kind != KindSP && line[i].Kind != KindCRLF
}

// Answered tells d that the caller answered the client's last command
// (the line last passed to Client or ClientWait) itself and did not relay
// it, as a proxy's refusal does: the command is complete, an AUTHENTICATE
// or IDLE it was is over, and a literal of it awaiting the server's word is
// refused. Call it instead of passing the answer to Server, which matches
// a completion by its tag, to the oldest pending command with it: one the
// server still has to answer.
func (d *Dialog) Answered() {
	d.mu.Lock()
	defer d.mu.Unlock()
	id := d.curID
	if id == 0 {
		return
	}
	d.curID = 0
	for i := range d.tags {
		if d.tags[i].id == id {
			d.tags = append(d.tags[:i], d.tags[i+1:]...)
			break
		}
	}
	if len(d.tags) == 0 {
		d.lost = false
	}
	if d.litOpen && d.litID == id {
		d.verdictLocked(false)
	}
	if d.sasl != "" && d.saslID == id {
		d.endSASLLocked()
	}
	if d.idle != "" && d.idleID == id {
		d.idle, d.idlePlus, d.idleDone = "", false, false
	}
	d.wakeLocked()
}

// Outstanding reports whether a command the client sent awaits its
// completion from the server: one passed to Client or ClientWait that no
// server's tagged line completed and that Answered did not end (an IDLE
// or AUTHENTICATE in progress counts). Only the commands d remembers
// count: past the bound d keeps, the oldest are forgotten, and once every
// remembered one has completed Outstanding reports false even though a
// forgotten one may still be owed its completion. A proxy whose client
// has ended its side uses it to tell a server that still owes an answer
// from one that owes nothing.
func (d *Dialog) Outstanding() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.tags) > 0 // d.lost is set only while d.tags is not empty
}

// Authenticating reports whether an AUTHENTICATE the client sent is under
// way: passed to Client or ClientWait, and neither completed by the server
// nor ended by Answered. A tracer that cannot tell what a server's line is
// (one with no token to pass to Server) redacts it then, as it would a
// challenge: the exchange may carry credentials.
func (d *Dialog) Authenticating() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sasl != ""
}

// ExpectContinuation tells d that the client direction has read the
// header of a literal (AppendUntilLiteral stopped at a KindLiteral token;
// lit is its Literal()) of the command it last passed to Client, and will
// not read the body before the server's word. Call it before forwarding
// the header, so that the server's answer cannot come first; then forward
// and flush the header and call WaitContinuation.
//
// It returns false, and WaitContinuation then reports the literal refused
// at once, when the server completed that command already (an APPEND's NO
// after its first message, before a later message's header was read):
// forward the header all the same (a server that skips the rest of a
// command it refused reads up to it: Dovecot reads the rest of an APPEND's
// line, a synchronizing literal ending it; one that does not reads it as a
// line without a tag, and answers BAD), and go on as for a refusal.
//
// For a synchronizing literal, forward the header with Forward: the client
// waits for the same "+". For a non-synchronizing one (lit.NonSync), whose
// body the client sends without waiting, forward it with ForwardAsSync, so
// that the server gives its word; the "+" that answers it comes with
// Event.Withhold set (do not forward it: the client expects none), and a
// refusal means the body the client sent is to be read and dropped, with
// the rest of the command.
func (d *Dialog) ExpectContinuation(lit LiteralInfo) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lit, d.litOpen, d.litQuiet, d.litID = nil, false, false, 0
	if d.curID != 0 && !d.lost {
		// With no pending commands forgotten, the literal's command is
		// pending until its completion came.
		done := true
		for i := range d.tags {
			if d.tags[i].id == d.curID {
				done = false
				break
			}
		}
		if done {
			return false
		}
		d.litID = d.curID
	}
	// Otherwise (no tag, or pending commands forgotten, so that a
	// forgotten one's completion could be taken for this one's) only "+"
	// ends the wait.
	d.lit = make(chan bool, 1)
	d.litOpen = true
	d.litQuiet = lit.NonSync
	return true
}

// WaitContinuation waits for the server's word on the literal announced to
// ExpectContinuation: true when the server sent "+" (relay the body, with
// Tokenizer.ForwardLiteral), false when it refused the literal: it
// completed the command instead (NO or BAD), or, for a literal on an IDLE
// line, accepted the IDLE (it reads what follows as a line of text). Then
// a client that sent a synchronizing literal will not send the body: call
// Tokenizer.RefuseLiteral and read the next line as a new command. A
// client that sent a non-synchronizing one sent its body: read and drop
// it (ForwardLiteral to io.Discard) and the rest of its command, literals
// included. It returns ctx's error if ctx ends first (the server direction
// ended: cancel ctx then), and false at once without ExpectContinuation.
func (d *Dialog) WaitContinuation(ctx context.Context) (bool, error) {
	d.mu.Lock()
	ch := d.lit
	d.mu.Unlock()
	if ch == nil {
		return false, nil
	}
	select {
	case ok := <-ch:
		d.mu.Lock()
		if d.lit == ch {
			d.lit = nil
		}
		d.mu.Unlock()
		return ok, nil
	case <-ctx.Done():
		d.mu.Lock()
		if d.lit == ch {
			d.lit, d.litID, d.litOpen, d.litQuiet = nil, 0, false, false
		}
		d.mu.Unlock()
		return false, ctx.Err()
	}
}

// verdictLocked hands the server's word to the literal that awaits it, if
// any: go-ahead ("+") or refusal (the command's completion).
// The word stays in the channel until WaitContinuation takes it: it may
// come before WaitContinuation is called.
func (d *Dialog) verdictLocked(ok bool) {
	if !d.litOpen {
		return
	}
	d.lit <- ok
	d.litID, d.litOpen, d.litQuiet = 0, false, false
}

// lineHead returns a line's tag as a server reads a command's (and a
// client a completion's): every byte up to the first space, which the
// tokenizer may cut into several tokens. Dovecot takes "NIL" (a KindNIL),
// "a[1" (an atom, '[', a number) or "<1>" (an atom; a KindPartial only
// after ']') for a tag (not "]" or "a[1]": a client's tag is then checked
// with validTag); a Dialog that looked at the first token alone saw no
// tag, or "a", and no command name, in "NIL AUTHENTICATE PLAIN" or "a[1
// LOGIN alice secret". tag is "" when a token there is no part of a tag
// (a quoted string, a parenthesis, a lone "*", a "+" first); rest is what
// follows the tag, or the first token when there is none.
func lineHead(line []Token) (tag string, rest []Token) {
	i := 0
	for i < len(line) && line[i].Kind == KindSP {
		i++
	}
	start := i
	var buf [64]byte
	b := buf[:0]
	for ; i < len(line) && line[i].Kind != KindSP && line[i].Kind != KindCRLF; i++ {
		switch k := line[i].Kind; {
		case k == KindAtom, k == KindNumber, k == KindNIL, k == KindLBracket, k == KindRBracket, k == KindPartial,
			k == KindPlus && i > start:
			// A '+' after a bracket ("a]+") is a lone KindPlus, and as
			// much a part of the tag as in "a+" (an atom): Tag reads both.
			b = AppendToken(b, line[i])
		default:
			if start < len(line) {
				return "", line[start+1:]
			}
			return "", nil
		}
	}
	if i == start {
		return "", line[i:]
	}
	return string(b), line[i:]
}

// ValidTag reports whether tag is a command's tag as RFC 9051 has it,
// 1*<any ASTRING-CHAR except "+">: one byte or more, none of them a
// control, a space, an 8-bit byte, '+', or an atom-special other than ']'
// ('(', ')', '{', '%', '*', '"', '\\'). ']' is allowed (resp-specials are
// ASTRING-CHARs), but Dialog reads a tag as Dovecot does, which refuses
// it: a line whose tag has a ']' has none for Dialog (Event.Tag ""), and
// a relay that answers such a line itself (cmd/imapkit's proxy) takes its
// tag with ValidTag. Dialog's own check is ValidTag without ']', so the
// two grammars cannot drift apart. (Tokenizer.Tag reads a '+' past a
// tag's first byte as part of it, a tolerance for what servers send;
// ValidTag does not. Encoder.Begin takes RFC 3501's tag, which has no
// ']'.)
func ValidTag(tag string) bool {
	if tag == "" {
		return false
	}
	for i := 0; i < len(tag); i++ {
		switch c := tag[i]; {
		case c <= ' ' || c >= 0x7f, c == '%', c == '*', c == '"', c == '\\', c == '+', c == '(', c == ')', c == '{':
			return false
		}
	}
	return true
}

// validTag reports whether a client's tag is one as Dovecot reads it:
// RFC 9051's (ValidTag), so no '%', '*', '"', '\\', '+', control or 8-bit
// byte (the other specials end the tag's tokens in lineHead), and Dovecot
// refuses ']' too, which RFC 9051 allows. Dovecot answers a line with
// another tag "* BAD Invalid tag", never completes it, and reads no
// literal on it.
//
// A '[' in a tag, first or not ("[a", "a[1"), is valid, as RFC 9051 and
// Dovecot have it, and needs no refusal when the client's lines come from
// a TokenizerOptions.Commands tokenizer: no line is a status response or
// a bare response code there, so neither "[a APPEND x] {5}" nor
// "a[1 OK {5+}" hides its literal from the Dialog.
func validTag(tag string) bool {
	return ValidTag(tag) && strings.IndexByte(tag, ']') < 0
}

// commandWord returns tok as a command name reads, in upper case: an atom,
// and "NIL" or digits too, which a server reads as a name (one it does not
// know) though the tokenizer makes a KindNIL or a KindNumber of them.
func commandWord(tok Token) (string, bool) {
	switch tok.Kind {
	case KindAtom, KindNIL, KindNumber:
		return strings.ToUpper(string(AppendToken(nil, tok))), true
	}
	return "", false
}

// lineWords returns the first two tokens of line that are not spaces
// (zero Tokens when there are fewer).
func lineWords(line []Token) (first, second Token) {
	return lineWord(line, 0), lineWord(line, 1)
}

// lineWord returns the n-th token of line that is not a space or the CRLF.
func lineWord(line []Token, n int) Token {
	for _, tok := range line {
		if tok.Kind == KindSP || tok.Kind == KindCRLF {
			continue
		}
		if n == 0 {
			return tok
		}
		n--
	}
	return Token{}
}
