// The commands the proxy answers itself instead of relaying them (why:
// refusal, midLineRefusal), and how it answers them and reads their rest
// without relaying it (refuse, refuseLine, refuseFailed).

package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/imapkit/imapkit/wire"
)

// midLineRefusal returns why the proxy refuses a command that a server
// answers before reading its whole line and then runs the rest of that
// line as a new command, unless its shape leaves nothing there a server
// could run: Cyrus 3.6 refuses SETQUOTA and UNDUMP (from a user who is no
// admin) and XWARMUP after their first argument. A SETQUOTA whose second
// argument is its parenthesised list is let through: what follows the
// first argument begins with "(", no command's tag. line is the command's
// first part (to its end or its first literal).
func midLineRefusal(command string, line []wire.Token) string {
	switch command {
	case "UNDUMP", "XWARMUP":
		return "BAD imapkit proxy: " + command + " is not relayed (Cyrus may run the rest of its line as a command)"
	case "SETQUOTA":
		// The two words after the command's name (the tag may be several
		// tokens; a tag that reads SETQUOTA makes this stricter, not
		// laxer).
		var args []wire.Token
		seen := false
		for _, tok := range line {
			switch {
			case tok.Kind == wire.KindSP || tok.Kind == wire.KindCRLF:
			case !seen:
				seen = tok.Kind == wire.KindAtom && strings.EqualFold(string(tok.Bytes()), "SETQUOTA")
			case len(args) < 2:
				args = append(args, tok)
			}
		}
		if len(args) < 2 || args[0].Kind == wire.KindLiteral || args[1].Kind != wire.KindLParen {
			return "BAD imapkit proxy: SETQUOTA is relayed only as SETQUOTA root (resource limit ...)"
		}
	}
	return ""
}

// maxTag bounds the tag of a command the proxy relays, and maxCommandName
// its name: the Dialog keeps both for each command that awaits its
// completion, up to 1,024 of them, and a command line may be 64,000 bytes
// (maxCommandLine), which made 65 MiB per connection for a client that
// pipelined commands with long tags. RFC 3501 and 9051 set no bound on a
// tag (1*<any ASTRING-CHAR except "+">); clients use a few bytes ("A0001",
// imaplib's "ABCD1"), and no command name is longer than a few words. With
// the bounds, what the Dialog keeps is under 330 KiB. A longer tag or name
// gets a BAD from the proxy (its own entry in the Dialog ends at once).
const (
	maxTag         = 256
	maxCommandName = 64
)

// refusal returns why the proxy answers the client's command itself
// instead of relaying it, or "" to relay it: credentials in the clear to
// an upstream that is neither on loopback nor behind TLS, or a STARTTLS
// the proxy has no certificate for.
//
// line is the command's first piece: a LOGIN or AUTHENTICATE as its first
// or second word (credentialCommand) counts as credentials, whatever the
// Dialog took for the tag and the name: a client that left out the tag
// ("LOGIN alice secret") still sends its password.
func (ps *proxySession) refusal(ev wire.Event, line []wire.Token, secure bool) string {
	if ev.Kind != wire.LineCommand || ev.Raw {
		return ""
	}
	if ev.Tag == "" {
		// Servers answer "* BAD" and run nothing (Dovecot: "Invalid
		// tag"), but may leave a literal on such a line unanswered,
		// neither "+" nor a completion, and the relay waiting for their
		// word; and credentials on it would go upstream for nothing.
		if bracketTag(line) != "" {
			// A tag to RFC 9051, none to Dovecot: not relayed either,
			// but answered with it (answerRefused).
			return `BAD imapkit proxy: a tag with "]" is not relayed (Dovecot reads no tag there)`
		}
		return "BAD imapkit proxy: a line without a tag is not a command"
	}
	if len(ev.Tag) > maxTag {
		return fmt.Sprintf("BAD imapkit proxy: a tag over %d bytes is not relayed", maxTag)
	}
	if len(ev.Command) > maxCommandName {
		return fmt.Sprintf("BAD imapkit proxy: a command name over %d bytes is not relayed", maxCommandName)
	}
	if ev.Command == "" {
		// A tag alone, or no command name after it where the line's first
		// piece ends: Cyrus answers "* BAD" and never completes it (the
		// Dialog would wait for that completion), and a command name in a
		// later piece would go unchecked.
		return "BAD imapkit proxy: no command name"
	}
	if !secure && (redactedCommand(ev.Command) || credentialCommand(line) != "") {
		return ps.plaintextRefusal()
	}
	switch ev.Command {
	case "STARTTLS":
		if ps.cfg.downTLS == nil {
			return "imapkit proxy: no certificate to offer STARTTLS with (start the proxy with --self-signed or --cert/--key)"
		}
	}
	return ""
}

// bracketTag returns the first word of line when it is a tag as RFC 9051
// has it (wire.ValidTag, the grammar wire.Dialog's own check is made
// of: before stop 61 this function had a copy of it) with a "]" in it, which
// resp-specials makes an ASTRING-CHAR, and a space ends it in line; ""
// otherwise. wire.Dialog reads a tag as Dovecot does, which refuses "]"
// ("* BAD Invalid tag", no completion, no literal read on the line), and
// tells no tag (Event.Tag ""): the proxy relays no such line, but
// answers it with its tag, as the client that sent it waits for (at a
// synchronizing literal's header, for a "+" that only a tagged answer
// replaces). Before, it answered "* BAD", and closed the connection with
// a BYE after one that ended at such a header. One over maxTag is not
// echoed.
func bracketTag(line []wire.Token) string {
	i := 0
	for i < len(line) && line[i].Kind != wire.KindSP && line[i].Kind != wire.KindCRLF {
		i++
	}
	if i == 0 || i == len(line) || line[i].Kind != wire.KindSP {
		return "" // no first word, or its end is not in line
	}
	var b []byte
	for _, tok := range line[:i] {
		if b = wire.AppendToken(b, tok); len(b) > maxTag {
			return ""
		}
	}
	if tag := string(b); wire.ValidTag(tag) && strings.Contains(tag, "]") {
		return tag
	}
	return ""
}

// plaintextRefusal is why the proxy does not relay credentials to an
// upstream in the clear.
func (ps *proxySession) plaintextRefusal() string {
	return "[PRIVACYREQUIRED] imapkit proxy: not relaying credentials in plaintext to " + ps.cfg.upstream.addr +
		": use STARTTLS first (or start the proxy with --insecure-plaintext)"
}

// refuse answers a command the proxy does not relay with a tagged NO.
// line is the command up to its end or its first literal. It reads the
// rest of the command without relaying it: the bodies of non-synchronizing
// literals are read and dropped; at a synchronizing literal, the NO goes
// instead of the "+" the client waits for, so that no body follows, and
// the literal ends there (RefuseLiteral).
//
// When the rest of the command does not tokenize (a quoted password with a
// backslash the client did not escape), the answer goes all the same and
// the rest of the line is dropped as RefuseLine drops it.
//
// A refused command is read no further than maxRefusedCommand bytes from
// its start (at lineStart in the client's stream): past it, the error
// matches wire.ErrLineTooLong (see refuseFailed). hideTag: the trace
// prints the answer's tag as "***" (injectAnswer). waits: the command
// ended at a synchronizing literal's header, where its client waits for
// a "+" that only a tagged answer replaces (answerRefused).
func (ps *proxySession) refuse(tk *wire.Tokenizer, line []wire.Token, tag, why string, lineStart int64, hideTag bool) (waits bool, err error) {
	room := refusedRoom(tk, lineStart)
	waits, err = tk.RefuseCommandWaits(line, room)
	if err != nil && !errors.Is(err, wire.ErrSyntax) {
		return false, refusedBound(err, room)
	}
	if ierr := ps.injectAnswer(tag, why, hideTag); ierr != nil {
		return false, ierr
	}
	if err != nil {
		room = refusedRoom(tk, lineStart)
		waits, err = tk.RefuseLineWaits(room)
		return waits, refusedBound(err, room)
	}
	return waits, nil
}

// errRefusedTooLong marks a refused command that went past
// maxRefusedCommand (refusedBound), told apart from a token or a line
// over the tokenizer's MaxLineLength in it, which also matches
// wire.ErrLineTooLong.
var errRefusedTooLong = errors.New("refused command too long")

// refusedBound marks err with errRefusedTooLong when it is the bound room
// given to RefuseCommandWaits or RefuseLineWaits (its *wire.LimitError's
// Limit), not the tokenizer's own MaxLineLength.
func refusedBound(err error, room int64) error {
	var le *wire.LimitError
	if errors.As(err, &le) && errors.Is(err, wire.ErrLineTooLong) && le.Limit == room {
		return fmt.Errorf("%w: %w", errRefusedTooLong, err)
	}
	return err
}

// maxRefusedCommand bounds what the proxy reads of a command it refuses
// (literal bodies included), which goes nowhere: past it the proxy
// answers "* BYE" and closes the connection. Without it, a client that
// never ended a refused command (a line of tokens without end, or
// non-synchronizing literals without end) kept its reader busy for ever,
// in bounded memory. It bounds CPU, not memory (the command is dropped as
// it is read, in a buffer that does not grow): it is maxServerLine's 32
// MiB, so that a legal long command the proxy refuses (a SEARCH of
// 150,000 criteria, 1.2 MB) gets its BAD and the session goes on, as it
// did before the bound (with the tokenizer's 1 MiB, it got "* BYE"). The
// bound is checked before each piece is read, so up to one piece more
// (MaxLineLength, 1 MiB) is read.
const maxRefusedCommand = maxServerLine

// refusedRoom is what may still be read of a refused command that began
// at lineStart.
func refusedRoom(tk *wire.Tokenizer, lineStart int64) int64 {
	return max(maxRefusedCommand-(tk.Offset()-lineStart), 0)
}

// refuseFailed ends a connection whose refused command could not be read
// to its end: past maxRefusedCommand, or with a token (or a line that
// does not tokenize) over the tokenizer's MaxLineLength in it, the client
// is told with a BYE that says which.
func (ps *proxySession) refuseFailed(err error) {
	var le *wire.LimitError
	switch {
	case errors.Is(err, errRefusedTooLong):
		ps.logf("* client side: a refused command of more than %d bytes: closing", maxRefusedCommand)
		ps.bye(fmt.Sprintf("imapkit proxy: a refused command of more than %d bytes: closing", maxRefusedCommand))
	case errors.Is(err, wire.ErrLineTooLong) && errors.As(err, &le):
		ps.logf("* client side: a refused command with a token or line of more than %d bytes: closing", le.Limit)
		ps.bye(fmt.Sprintf("imapkit proxy: a refused command with a token or line of more than %d bytes: closing", le.Limit))
	case errors.Is(err, errServerStalled):
		ps.stalledMidLine()
	default:
		ps.logf("* client side: %s", errText(err))
	}
	ps.closeAll()
}

// refuseLine is refuse for a line that does not tokenize: the answer goes
// first, then the rest of the line is read and dropped.
func (ps *proxySession) refuseLine(tk *wire.Tokenizer, tag, why string, lineStart int64, hideTag bool) (waits bool, err error) {
	if err := ps.injectAnswer(tag, why, hideTag); err != nil {
		return false, err
	}
	room := refusedRoom(tk, lineStart)
	waits, err = tk.RefuseLineWaits(room)
	return waits, refusedBound(err, room)
}

// answer returns the proxy's answer line and lets the Dialog see it
// (injectAnswer sends and prints it).
func (ps *proxySession) answer(tag, why string) []byte {
	if tag == "" {
		tag = "*"
	}
	if !strings.HasPrefix(why, "BAD ") {
		why = "NO " + why
	}
	answer := []byte(tag + " " + why + "\r\n")
	// The Dialog saw the command: it is complete (by its own entry, not
	// by its tag, which an earlier command the server has yet to answer
	// may share).
	ps.dialog.Answered()
	return answer
}

// injectAnswer sends the client the proxy's own answer to a command
// (answer), and prints it once sent: before, it was printed first, and
// printed all the same when it could not be sent (a server stalled
// mid-line, the connection closing).
//
// hideTag: the trace did not show the command (printed redacted, as SASL
// data or as a line that does not tokenize), and prints the answer's tag,
// the line's first word, as "***". Before stop 59 it printed the tag,
// which showed the first word of a line that does not tokenize
// ("secretpw" of `secretpw"x`), a password maybe; the secrets redacted
// from the trace held it only where the printer had kept it (of a line
// printed as SASL data, the 16 newest words of 3 bytes or more).
func (ps *proxySession) injectAnswer(tag, why string, hideTag bool) error {
	answer := ps.answer(tag, why)
	if err := ps.toClient.inject(answer); err != nil {
		return err
	}
	if hideTag && tag != "" {
		answer = append([]byte("*** "), answer[len(tag)+1:]...)
	}
	ps.traceOwn(answer)
	return nil
}
