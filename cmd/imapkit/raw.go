package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// raw and the shell send a command as a person writes it and print every
// response the server sends, decoded.

// maxTypedLiteral bounds a literal typed with {N}: it is held in memory.
const maxTypedLiteral = 16 << 20

// refusedTyped are commands raw and the shell do not send as typed: they
// change the connection under the session, or the session runs them itself.
var refusedTyped = map[string]string{
	"STARTTLS":     "TLS is set up by the URL and its flags",
	"COMPRESS":     "not in a raw session",
	"AUTHENTICATE": "logging in is done by the flags (--sasl, --user, ...)",
	"LOGIN":        "logging in is done by the flags (--sasl, --user, ...)",
	"DONE":         "DONE only ends IDLE",
}

// typedSeg is one piece of a typed command's arguments: raw syntax, a
// string (quoted by the person, or a word with 8-bit characters), or a
// literal typed with {N}.
type typedSeg struct {
	raw   string
	str   *string
	lit   []byte
	isLit bool
}

// typedCmd is a command typed by a person, without its tag.
type typedCmd struct {
	name string // upper case: "NOOP", "UID FETCH"
	segs []typedSeg
}

// args writes the arguments.
func (tc *typedCmd) args(e *wire.Encoder) {
	if len(tc.segs) == 0 {
		return
	}
	e.SP()
	for _, s := range tc.segs {
		switch {
		case s.isLit:
			e.Literal(s.lit)
		case s.str != nil:
			e.String(*s.str)
		case s.raw != "":
			e.Raw(s.raw)
		}
	}
}

// check encodes the command once, to report bad syntax before it is sent.
func (tc *typedCmd) check() error {
	e := wire.NewEncoder(nil)
	e.Begin("A1").SP().Raw(tc.name)
	tc.args(e)
	_, err := e.End()
	return err
}

var literalHeader = regexp.MustCompile(`\{([0-9]+)\+?\}$`)

// parseTyped parses a command line as a person types it: the command
// (two words for UID commands), then its arguments as they go on the wire,
// except that a quoted string or a word with 8-bit characters is sent as
// the encoder chooses (a literal when it is long or 8-bit), and a {N} at
// the end of a line takes the next N bytes of input (the lines that follow,
// each ended by CRLF) as a literal, the command going on after them. more
// returns the next line of input. An empty line gives a nil command.
func parseTyped(line string, more func() (string, error)) (*typedCmd, error) {
	line = strings.TrimLeft(line, " \t")
	if strings.TrimSpace(line) == "" {
		return nil, nil
	}
	name, rest, _ := strings.Cut(line, " ")
	name = strings.ToUpper(name)
	if name == "UID" {
		rest = strings.TrimLeft(rest, " ")
		var sub string
		sub, rest, _ = strings.Cut(rest, " ")
		if sub == "" {
			return nil, errors.New("UID needs a command after it (UID FETCH, UID SEARCH, ...)")
		}
		name += " " + strings.ToUpper(sub)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' && c != ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return nil, fmt.Errorf("%q is not a command name", name)
		}
	}
	tc := &typedCmd{name: name}
	rest = strings.TrimLeft(rest, " ")
	var raw strings.Builder
	flush := func() {
		if raw.Len() > 0 {
			tc.segs = append(tc.segs, typedSeg{raw: raw.String()})
			raw.Reset()
		}
	}
	for i := 0; i < len(rest); {
		c := rest[i]
		switch {
		case c == '"':
			flush()
			var s strings.Builder
			j := i + 1
			for ; j < len(rest) && rest[j] != '"'; j++ {
				if rest[j] == '\\' && j+1 < len(rest) {
					j++
				}
				s.WriteByte(rest[j])
			}
			if j >= len(rest) {
				return nil, errors.New("unterminated quoted string")
			}
			str := s.String()
			tc.segs = append(tc.segs, typedSeg{str: &str})
			i = j + 1
		case c == '{':
			m := literalHeader.FindStringSubmatch(rest[i:])
			if m == nil || len(m[0]) != len(rest)-i {
				return nil, errors.New("'{' starts a literal {N} only at the end of a line")
			}
			n, err := strconv.Atoi(m[1])
			if err != nil || n > maxTypedLiteral {
				return nil, fmt.Errorf("literal {%s}: at most %d bytes may be typed", m[1], maxTypedLiteral)
			}
			flush()
			var data []byte
			for len(data) < n {
				l, err := more()
				if err != nil {
					return nil, fmt.Errorf("input ended inside the literal {%d}: %d bytes typed", n, len(data))
				}
				data = append(data, l...)
				data = append(data, '\r', '\n')
			}
			tc.segs = append(tc.segs, typedSeg{lit: data[:n:n], isLit: true})
			after := strings.TrimSuffix(string(data[n:]), "\r\n")
			if after == "\n" {
				return nil, fmt.Errorf("the literal {%d} ends between a CR and its LF: count the CRLF of each line", n)
			}
			rest, i = after, 0
			continue
		case c >= 0x80:
			// A word with 8-bit characters: a string.
			w := raw.String()
			start := strings.LastIndexAny(w, " (") + 1
			raw.Reset()
			raw.WriteString(w[:start])
			flush()
			end := i
			for end < len(rest) && rest[end] != ' ' && rest[end] != ')' {
				end++
			}
			str := w[start:] + rest[i:end]
			tc.segs = append(tc.segs, typedSeg{str: &str})
			i = end
		default:
			raw.WriteByte(c)
			i++
		}
	}
	flush()
	return tc, nil
}

// respPrinter prints the responses of raw and the shell: readable by
// default, one JSON object per response with --json (the objects of
// imapkit decode, without "offset").
type respPrinter struct {
	w    io.Writer
	json bool
	dr   decodeRun
	// s hides in each response the credentials it sent
	// (session.Session.Redacted): a hostile server's echo of the
	// password in an untagged NO, or in a response of its own making,
	// was printed as sent, beside the tagged answer's "***".
	s *session.Session
}

func newRespPrinter(w io.Writer, jsonOut bool, s *session.Session) *respPrinter {
	return &respPrinter{w: w, json: jsonOut, dr: decodeRun{maxBody: defaultMaxBody}, s: s}
}

// command returns the session command for tc: every response but a
// continuation request belongs to it, and each is printed as it arrives.
func (p *respPrinter) command(tc *typedCmd) *session.Command {
	return &session.Command{
		Name:     tc.name,
		Args:     tc.args,
		AnyState: true,
		Want: func(r codec.Response) bool {
			_, cont := r.(*codec.Continuation)
			return !cont
		},
		OnData:   p.print,
		Sections: p.dr.section,
	}
}

// print prints one response.
func (p *respPrinter) print(r codec.Response) {
	defer clear(p.dr.bodies)
	if p.s != nil {
		r = p.s.Redacted(r)
	}
	buf := &p.dr.buf
	buf.Reset()
	if p.json {
		buf.WriteString(`{"type":`)
		jsonString(buf, responseType(r))
		buf.WriteString(`,"response":`)
		p.dr.value(reflect.ValueOf(r))
		buf.WriteString("}\n")
		p.w.Write(buf.Bytes())
		return
	}
	if st, ok := r.(*codec.Status); ok {
		fmt.Fprintln(p.w, statusText(st))
		return
	}
	var bodies []string
	if f, ok := r.(*codec.Fetch); ok && len(f.Sections) > 0 {
		// The bodies go below, as text; the JSON says how long each is.
		f2 := *f
		f2.Sections = slices.Clone(f.Sections)
		for i := range f2.Sections {
			s := &f2.Sections[i]
			data, truncated := []byte(s.Data), false
			if b, ok := p.dr.bodies[i]; ok && s.Streamed {
				data, truncated = b.data, b.truncated
			}
			head := fmt.Sprintf("  %s[%s] (%d bytes)", sectionKindName(s.Kind), printable(string(s.Spec)), s.Size)
			if truncated {
				head += fmt.Sprintf(", the first %d shown", len(data))
			}
			bodies = append(bodies, head+"\n"+quoteBody(data))
			s.Data, s.Streamed = nil, true
		}
		clear(p.dr.bodies)
		r = &f2
	}
	p.dr.value(reflect.ValueOf(r))
	var text bytes.Buffer
	if buf.Len() > 200 {
		json.Indent(&text, buf.Bytes(), "  ", "  ")
	} else {
		text.Write(buf.Bytes())
	}
	fmt.Fprintf(p.w, "* %s %s\n", responseType(r), text.Bytes())
	for _, b := range bodies {
		fmt.Fprint(p.w, b)
	}
}

// sectionKindName names a section kind as on the wire.
func sectionKindName(k codec.SectionKind) string {
	b, err := k.MarshalText()
	if err != nil || len(b) == 0 {
		return "BODY"
	}
	return string(b)
}

// quoteBody shows a body as lines prefixed "  | ", with control
// characters made printable.
func quoteBody(b []byte) string {
	var sb strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, len(b)+1)
	for sc.Scan() {
		sb.WriteString("  | ")
		sb.WriteString(printable(strings.TrimSuffix(sc.Text(), "\r")))
		sb.WriteByte('\n')
	}
	return sb.String()
}

// statusText is a status response as one line: "A3 OK [UIDNEXT 7] text".
func statusText(st *codec.Status) string {
	var sb strings.Builder
	if st.Tag != nil {
		sb.Write(st.Tag)
	} else {
		sb.WriteByte('*')
	}
	if st.Kind != 0 {
		sb.WriteByte(' ')
		sb.WriteString(codec.ResponseName(st))
	}
	if st.Code != nil {
		sb.WriteString(" [")
		sb.WriteString(codeText(st.Code))
		sb.WriteByte(']')
	}
	if len(st.Text) > 0 {
		sb.WriteByte(' ')
		sb.Write(st.Text)
	}
	return printable(sb.String())
}

// codeText is a response code as the server wrote it, near enough.
func codeText(c *codec.Code) string {
	s := string(c.Name)
	join := func(bs []codec.Bytes) string {
		l := make([]string, len(bs))
		for i, b := range bs {
			l[i] = string(b)
		}
		return strings.Join(l, " ")
	}
	switch {
	case c.Raw != nil:
		return s + " " + string(c.Raw)
	case len(c.Caps) > 0:
		return s + " " + join(c.Caps)
	case c.Flags != nil:
		return s + " (" + join(c.Flags) + ")"
	case !c.Src.IsEmpty():
		return fmt.Sprintf("%s %d %s %s", s, c.UIDValidity, c.Src, c.Dst)
	case !c.Dst.IsEmpty():
		return fmt.Sprintf("%s %d %s", s, c.UIDValidity, c.Dst)
	case !c.Set.IsEmpty():
		return s + " " + c.Set.String()
	case c.Num != 0 || c.Kind == codec.CodeUIDNext || c.Kind == codec.CodeUIDValidity:
		if len(c.Sub) > 0 {
			return fmt.Sprintf("%s %s %d", s, c.Sub, c.Num)
		}
		return s + " " + strconv.FormatUint(c.Num, 10)
	case len(c.Sub) > 0:
		return s + " " + string(c.Sub)
	}
	return s
}

// runTyped sends a typed command and prints its responses and its tagged
// status. A NO or BAD is returned as the error, after the status is
// printed.
func runTyped(ctx context.Context, s *session.Session, p *respPrinter, tc *typedCmd) error {
	if why, ok := refusedTyped[tc.name]; ok {
		return usagef("%s is not sent from here: %s", tc.name, why)
	}
	if err := tc.check(); err != nil {
		return usagef("%v", err)
	}
	res, err := s.Run(ctx, p.command(tc))
	if res != nil && res.Status != nil {
		p.print(res.Status)
	}
	return err
}

var rawCommand = serverCmd{
	name: "raw", args: "COMMAND [ARGUMENT...]", min: 1, max: -1, summary: "send any command and print every response, decoded",
	help: "Send one command, written as on the wire without its tag (the arguments are joined\n" +
		"by spaces: raw URL 'UID FETCH 1:3 (FLAGS ENVELOPE)'), and print every response,\n" +
		"decoded. Quoted strings and words with 8-bit characters are sent as literals when\n" +
		"they need to be; a {N} at the end takes N bytes from stdin as a literal. --select\n" +
		"opens a mailbox first. The exit status is 1 when the command's answer is NO or BAD.",
	flags: func(fs *flag.FlagSet) any {
		return fs.String("select", "", "SELECT this `mailbox` first")
	},
	run: runRaw,
}

func runRaw(ctx context.Context, cn *conn, args []string, own any, o *output) error {
	in := bufio.NewReader(o.stdinUntil(ctx)) // a literal's lines; Ctrl-C stops the reading
	tc, err := parseTyped(strings.Join(args, " "), func() (string, error) { return readLine(in) })
	if err != nil {
		if ctx.Err() != nil {
			return &errInterrupted{ctx.Err()} // not the input's fault
		}
		return usagef("%v", err)
	}
	if tc == nil {
		return usagef("raw: no command")
	}
	if tc.name == "LOGOUT" || tc.name == "IDLE" {
		return usagef("raw: %s is not sent from here (raw logs out at the end; for IDLE use imapkit idle)", tc.name)
	}
	if mbox := *own.(*string); mbox != "" {
		if _, err := cn.c.Select(ctx, mbox, nil); err != nil {
			return err
		}
	}
	return runTyped(ctx, cn.c.Session(), newRespPrinter(o.stdout, o.json, cn.c.Session()), tc)
}

// readLine reads one line without its line end.
func readLine(r *bufio.Reader) (string, error) {
	l, err := r.ReadString('\n')
	if err != nil && (err != io.EOF || l == "") {
		return "", err
	}
	return strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r"), nil
}
