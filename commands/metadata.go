package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// MetadataOptions are the options of GetMetadata (RFC 5464).
type MetadataOptions struct {
	// Depth is 0 (default), 1 or -1 for infinity.
	Depth int
	// MaxSize drops values larger than this many bytes (0: no limit);
	// the size of the largest dropped comes back as LongEntries.
	MaxSize uint32
}

// MetadataEntry is one METADATA entry; Value is nil for NIL.
type MetadataEntry struct {
	Name  string
	Value []byte
}

// GetMetadata sends GETMETADATA for a mailbox ("" for the server) and
// entries such as "/private/comment". longEntries is n of the tagged
// OK's [METADATA LONGENTRIES n] (0 without it; the number of another
// METADATA code, such as MAXSIZE, is not taken).
//
// The answer is the METADATA responses with values that name the mailbox
// (matched as MyRights matches it: as sent, else with INBOX at its head in
// another case), and of their entries those asked for and, with
// MetadataOptions.Depth 1, their immediate children, with -1 (infinity)
// every entry under them (RFC 5464 section 4.2.2), entry names compared in
// any ASCII case. Entries of another mailbox, or neither asked for nor
// within the asked depth of one, are not the answer and are left out.
//
// An entry whose value is larger than the session's bound on one string
// (wire.TokenizerOptions.MaxStringLiteral, 64 KiB by default) is read past
// and left out: GetMetadata returns the other entries and a
// *MetadataTooLargeError naming it with its size.
func (c *Client) GetMetadata(ctx context.Context, mailbox string, entries []string, opts *MetadataOptions) (out []MetadataEntry, longEntries uint64, err error) {
	var o MetadataOptions
	if opts != nil {
		o = *opts
	}
	if o.Depth < -1 || o.Depth > 1 {
		return nil, 0, fmt.Errorf("commands: MetadataOptions.Depth %d (0, 1, or -1 for infinity)", o.Depth)
	}
	if len(entries) == 0 {
		return nil, 0, errors.New("commands: GetMetadata without entries")
	}
	r, err := c.run(ctx, c.target(&session.Command{Name: "GETMETADATA", Args: func(e *wire.Encoder) {
		if o.Depth != 0 || o.MaxSize > 0 {
			e.SP().List(func(e *wire.Encoder) {
				sp := false
				if o.MaxSize > 0 {
					e.Atom("MAXSIZE").SP().Number(uint64(o.MaxSize))
					sp = true
				}
				if o.Depth != 0 {
					if sp {
						e.SP()
					}
					d := strconv.Itoa(o.Depth)
					if o.Depth < 0 {
						d = "infinity"
					}
					e.Atom("DEPTH").SP().Atom(d)
				}
			})
		}
		c.mailbox(e, mailbox).SP().List(func(e *wire.Encoder) {
			for i, en := range entries {
				if i > 0 {
					e.SP()
				}
				e.AString(en)
			}
		})
	}}, nil, mailbox))
	if err != nil {
		return nil, 0, err
	}
	want, _ := c.encodeMailbox(mailbox) // the command went: no error
	own := ownMailbox(r.Data, want, metadataMailbox)
	var skipped []SkippedEntry
	for _, d := range r.Data {
		// The answer names the mailbox asked for, with values; an entry
		// list without them, or another mailbox's, is an unsolicited
		// change notice (RFC 5464 section 4.4.2), not an entry unset.
		if m, ok := d.(*codec.Metadata); ok && m.Values && own(d) {
			for _, p := range m.Entries {
				if withinAsked(string(p.Name), entries, o.Depth) {
					out = append(out, MetadataEntry{Name: string(p.Name), Value: p.Value.Clone()})
				}
			}
			for _, sk := range m.Skipped {
				if withinAsked(string(sk.Name), entries, o.Depth) {
					skipped = append(skipped, SkippedEntry{Name: string(sk.Name), Size: sk.Size})
				}
			}
		}
	}
	if st := r.Status; st != nil && st.Code != nil && st.Code.Kind == codec.CodeMetadata && equalFold(string(st.Code.Sub), "LONGENTRIES") {
		// Only LONGENTRIES tells of entries MAXSIZE left out: the
		// number of another METADATA code (MAXSIZE, SETMETADATA's
		// refusal) is no such size.
		longEntries = st.Code.Num
	}
	if skipped != nil {
		return out, longEntries, &MetadataTooLargeError{Entries: skipped}
	}
	return out, longEntries, nil
}

// MetadataTooLargeError reports the entries of GetMetadata's answer whose
// values were larger than the session's bound on one string
// (wire.TokenizerOptions.MaxStringLiteral, wire.DefaultMaxStringLiteral =
// 64 KiB by default): they were read past, not kept (codec.Metadata's
// Skipped). GetMetadata returns the other entries of its answer beside
// it, and the session goes on. It matches wire.ErrStringTooLarge. To have
// such values, raise MaxStringLiteral (session.Options.Tokenizer); to have
// the server leave them out instead, and say so in longEntries, ask with
// MetadataOptions.MaxSize (RFC 5464 section 4.2.1).
type MetadataTooLargeError struct {
	Entries []SkippedEntry // in the order the server sent them
}

// SkippedEntry is an entry whose value was too large to keep: its name and
// the value's size in bytes.
type SkippedEntry struct {
	Name string
	Size int64
}

// Error implements error.
func (e *MetadataTooLargeError) Error() string {
	var b strings.Builder
	b.WriteString("commands: GETMETADATA: ")
	for i, en := range e.Entries {
		if i == 3 {
			fmt.Fprintf(&b, " and %d more", len(e.Entries)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q (%d bytes)", en.Name, en.Size)
	}
	if len(e.Entries) == 1 {
		b.WriteString(": value")
	} else {
		b.WriteString(": values")
	}
	b.WriteString(" over the session's bound on a string (wire.TokenizerOptions.MaxStringLiteral, 64 KiB by default), left out")
	return b.String()
}

// Unwrap returns wire.ErrStringTooLarge.
func (e *MetadataTooLargeError) Unwrap() error { return wire.ErrStringTooLarge }

func metadataMailbox(d codec.Response) ([]byte, bool) {
	m, ok := d.(*codec.Metadata)
	if !ok || !m.Values {
		return nil, false
	}
	return m.Mailbox, true
}

// withinAsked reports whether the entry name is one of asked or, with a
// depth of 1, an immediate child of one ("/private/comment/a" of
// "/private/comment"), with a depth of -1 (infinity) any entry under one
// (RFC 5464 section 4.2.2). Entry names are compared in any ASCII case:
// servers spell them their own way (Dovecot lower-cases them).
func withinAsked(name string, asked []string, depth int) bool {
	for _, a := range asked {
		if equalFold(name, a) {
			return true
		}
		if depth == 0 || len(name) <= len(a)+1 || name[len(a)] != '/' || !equalFold(name[:len(a)], a) {
			continue
		}
		if depth < 0 || !strings.Contains(name[len(a)+1:], "/") {
			return true
		}
	}
	return false
}

// SetMetadata sends SETMETADATA: a nil Value removes the entry.
func (c *Client) SetMetadata(ctx context.Context, mailbox string, entries []MetadataEntry) error {
	if len(entries) == 0 {
		return errors.New("commands: SetMetadata without entries")
	}
	return c.simpleTo(ctx, "SETMETADATA", mailbox, func(e *wire.Encoder) {
		c.mailbox(e, mailbox).SP().List(func(e *wire.Encoder) {
			for i, en := range entries {
				if i > 0 {
					e.SP()
				}
				e.AString(en.Name).SP()
				if en.Value == nil {
					e.Atom("NIL")
				} else {
					e.StringBytes(en.Value)
				}
			}
		})
	})
}

// Annotation is one entry of an ANNOTATION response (the ANNOTATEMORE
// draft that imaplib's getannotation speaks): attribute/value pairs, a nil
// value for NIL.
type Annotation struct {
	Mailbox string
	Entry   string
	Attrs   []MetadataEntry
}

// GetAnnotation sends GETANNOTATION (imaplib's getannotation) for an entry
// pattern and attribute patterns (e.g. "/comment", "value.shared").
func (c *Client) GetAnnotation(ctx context.Context, mailbox, entry string, attrs ...string) ([]*Annotation, error) {
	if len(attrs) == 0 {
		return nil, errors.New("commands: GetAnnotation without attributes (\"value.priv\", \"value.shared\", ...)")
	}
	r, err := c.run(ctx, c.target(&session.Command{Name: "GETANNOTATION", Args: func(e *wire.Encoder) {
		c.mailbox(e, mailbox).SP().String(entry).SP()
		if len(attrs) == 1 {
			e.String(attrs[0])
			return
		}
		e.List(func(e *wire.Encoder) {
			for i, a := range attrs {
				if i > 0 {
					e.SP()
				}
				e.String(a)
			}
		})
	}}, nil, mailbox))
	if err != nil {
		return nil, err
	}
	var out []*Annotation
	for _, d := range r.Data {
		if a, ok := d.(*codec.Annotation); ok {
			an := &Annotation{Mailbox: c.decodeMailbox(a.Mailbox), Entry: string(a.Entry)}
			for _, p := range a.Attrs {
				an.Attrs = append(an.Attrs, MetadataEntry{Name: string(p.Name), Value: p.Value.Clone()})
			}
			out = append(out, an)
		}
	}
	return out, nil
}

// SetAnnotation sends SETANNOTATION (imaplib's setannotation) for one
// entry: attribute/value pairs, a nil Value for NIL.
func (c *Client) SetAnnotation(ctx context.Context, mailbox, entry string, attrs []MetadataEntry) error {
	return c.simpleTo(ctx, "SETANNOTATION", mailbox, func(e *wire.Encoder) {
		c.mailbox(e, mailbox).SP().String(entry).SP().List(func(e *wire.Encoder) {
			for i, a := range attrs {
				if i > 0 {
					e.SP()
				}
				e.String(a.Name).SP()
				if a.Value == nil {
					e.Atom("NIL")
				} else {
					e.StringBytes(a.Value)
				}
			}
		})
	})
}
