package commands

import (
	"context"
	"io"
	"time"

	"github.com/imapkit/imapkit/codec"
)

// The utilities of Python's imaplib module, for programs ported from it.
// They have the semantics documented on the codec functions they wrap
// (codec keeps them for now; they are to move here).

// ErrNoFlags is returned by ParseFlags when the response holds no
// "FLAGS (...)".
var ErrNoFlags = codec.ErrNoFlags

// Int2AP returns n in base 16 with the digits A to P (imaplib.Int2AP).
func Int2AP(n uint64) string { return codec.Int2AP(n) }

// ParseFlags returns the flags of a raw FLAGS response (imaplib.ParseFlags).
func ParseFlags(resp []byte) ([]string, error) { return codec.ParseFlags(resp) }

// Internaldate2Time finds INTERNALDATE "..." in a raw FETCH response and
// returns the instant (imaplib.Internaldate2tuple, in UTC rather than
// local time); ok is false when there is none or it is malformed.
func Internaldate2Time(resp []byte) (t time.Time, ok bool) { return codec.Internaldate2Time(resp) }

// Time2Internaldate returns t as a quoted INTERNALDATE,
// "DD-Mmm-YYYY HH:MM:SS +HHMM" with the quotes (imaplib.Time2Internaldate).
func Time2Internaldate(t time.Time) string { return codec.Time2Internaldate(t) }

// NormalizeCRLF returns msg with every bare CR and bare LF made CRLF, as
// imaplib's append does; msg is returned as is when it has none.
func NormalizeCRLF(msg []byte) []byte {
	bare := false
	for i, c := range msg {
		if c == '\n' && (i == 0 || msg[i-1] != '\r') || c == '\r' && (i+1 == len(msg) || msg[i+1] != '\n') {
			bare = true
			break
		}
	}
	if !bare {
		return msg
	}
	out := make([]byte, 0, len(msg)+len(msg)/32+2)
	for i := 0; i < len(msg); i++ {
		switch c := msg[i]; {
		case c == '\r':
			out = append(out, '\r', '\n')
			if i+1 < len(msg) && msg[i+1] == '\n' {
				i++
			}
		case c == '\n':
			out = append(out, '\r', '\n')
		default:
			out = append(out, c)
		}
	}
	return out
}

// Partial fetches length bytes from start of a section of one message
// (imaplib's partial: the PARTIAL command is obsolete, this sends
// BODY.PEEK[section]<start.length>) and returns them. With several
// messages in set, only the first one's bytes are returned.
func (c *Client) Partial(ctx context.Context, set Set, section FetchSection, start, length uint32) ([]byte, error) {
	section.Offset, section.Count = start, length
	var out []byte
	got := false
	for m, err := range c.Fetch(ctx, set, &FetchItems{Sections: []FetchSection{section}}) {
		if err != nil {
			return nil, err
		}
		if got {
			continue
		}
		s, err := m.NextSection()
		if err == io.EOF {
			continue
		}
		if err != nil {
			return nil, err
		}
		if out, err = io.ReadAll(s); err != nil {
			return nil, err
		}
		got = true
	}
	return out, nil
}
