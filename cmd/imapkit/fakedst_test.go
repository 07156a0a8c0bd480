//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeDst is a scripted destination server for copy: PREAUTH, LITERAL+,
// no UIDPLUS (so copy asks STATUS before each APPEND group). It keeps the
// mailboxes, their UIDNEXT and the Message-IDs appended to each.
type fakeDst struct {
	mu       sync.Mutex
	boxes    map[string]*fakeBox
	onStatus func(box string, n int) // n: how many STATUS of box so far, this one included
	statusN  map[string]int
	log      []string
	caps     string // "" for IMAP4rev1 LITERAL+
	// dropAppend: an APPEND to this mailbox closes the connection
	// unanswered (added for TestCopyDestinationEndedReconnects).
	dropAppend string
}

type fakeBox struct {
	uidNext uint32
	ids     []string
}

var literalSizeRE = regexp.MustCompile(`~?\{(\d+)(\+?)\}\r\n$`)

// readCommand reads one command line from r, with its literals (a "+ go"
// written to w for each synchronizing one), for a fake server: the raw
// bytes, the tag, the command's name in upper case, the rest of its first
// line, and false when the connection ended.
func readCommand(r *bufio.Reader, w io.Writer) (raw []byte, tag, cmd, rest string, ok bool) {
	for {
		line, err := r.ReadBytes('\n')
		raw = append(raw, line...)
		if err != nil {
			return raw, "", "", "", false
		}
		m := literalSizeRE.FindSubmatch(line)
		if m == nil {
			break
		}
		n, _ := strconv.Atoi(string(m[1]))
		if len(m[2]) == 0 {
			io.WriteString(w, "+ go\r\n")
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return raw, "", "", "", false
		}
		raw = append(raw, body...)
	}
	first, _, _ := strings.Cut(string(raw), "\r\n")
	fields := strings.SplitN(first, " ", 3)
	tag = fields[0]
	if len(fields) > 1 {
		cmd = strings.ToUpper(fields[1])
	}
	if len(fields) > 2 {
		rest = fields[2]
	}
	return raw, tag, cmd, rest, true
}

var messageIDRE = regexp.MustCompile(`(?i)Message-ID:\s*(<[^>]*>)`)

func fakeUnquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = strings.ReplaceAll(s[1:len(s)-1], `\"`, `"`)
	}
	return s
}

func (f *fakeDst) start(t *testing.T) string { return serveTCP(t, f.serve) }

func (f *fakeDst) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	caps := f.caps
	if caps == "" {
		caps = "IMAP4rev1 LITERAL+"
	}
	io.WriteString(c, "* PREAUTH [CAPABILITY "+caps+"] fake destination\r\n")
	for {
		raw, tag, cmd, rest, ok := readCommand(r, c)
		if !ok {
			return
		}
		out := f.answer(tag, cmd, rest, raw)
		if out == "" {
			return // dropAppend
		}
		if _, err := io.WriteString(c, out); err != nil || cmd == "LOGOUT" {
			return
		}
	}
}

func (f *fakeDst) answer(tag, cmd, rest string, raw []byte) string {
	f.mu.Lock()
	f.log = append(f.log, tag+" "+cmd+" "+rest)
	f.mu.Unlock()
	ok := tag + " OK done\r\n"
	switch cmd {
	case "CAPABILITY":
		caps := f.caps
		if caps == "" {
			caps = "IMAP4rev1 LITERAL+"
		}
		return "* CAPABILITY " + caps + "\r\n" + ok
	case "LOGOUT":
		return "* BYE bye\r\n" + ok
	case "LIST":
		ref, pat, _ := strings.Cut(rest, " ")
		_ = ref
		pat = fakeUnquote(pat)
		if pat == "" {
			return `* LIST (\Noselect) "/" ""` + "\r\n" + ok
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		var b strings.Builder
		for name := range f.boxes {
			if pat == "*" || pat == "%" || pat == name {
				fmt.Fprintf(&b, "* LIST () \"/\" \"%s\"\r\n", name)
			}
		}
		return b.String() + ok
	case "CREATE":
		f.mu.Lock()
		defer f.mu.Unlock()
		name := fakeUnquote(rest)
		if f.boxes[name] == nil {
			f.boxes[name] = &fakeBox{uidNext: 1}
		}
		return ok
	case "STATUS":
		name := rest
		if i := strings.Index(name, " ("); i >= 0 {
			name = name[:i]
		}
		name = fakeUnquote(name)
		f.mu.Lock()
		f.statusN[name]++
		n := f.statusN[name]
		hook := f.onStatus
		f.mu.Unlock()
		if hook != nil {
			hook(name, n)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		bx := f.boxes[name]
		if bx == nil {
			return tag + " NO [NONEXISTENT] no such mailbox\r\n"
		}
		return fmt.Sprintf("* STATUS \"%s\" (UIDNEXT %d UIDVALIDITY 7 MESSAGES %d)\r\n", name, bx.uidNext, len(bx.ids)) + ok
	case "APPEND":
		name := rest
		if strings.HasPrefix(name, `"`) {
			name = name[:strings.Index(name[1:], `"`)+2]
		} else {
			name, _, _ = strings.Cut(name, " ")
		}
		name = fakeUnquote(name)
		f.mu.Lock()
		defer f.mu.Unlock()
		if name == f.dropAppend {
			return ""
		}
		bx := f.boxes[name]
		if bx == nil {
			return tag + " NO [TRYCREATE] no such mailbox\r\n"
		}
		for _, m := range messageIDRE.FindAllSubmatch(raw, -1) {
			bx.ids = append(bx.ids, string(m[1]))
			bx.uidNext++
		}
		return ok
	}
	return ok
}
