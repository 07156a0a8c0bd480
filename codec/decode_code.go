package codec

import (
	"fmt"

	"github.com/imapkit/imapkit/wire"
)

// respCode decodes "[" code "]". The Code is the decoder's flyweight.
func (d *Decoder) respCode() (*Code, error) {
	t := d.t
	if err := t.Expect('['); err != nil {
		return nil, err
	}
	name, err := t.Atom()
	if err != nil {
		return nil, err
	}
	c := &d.fw.code
	caps, flags, charsets := c.Caps[:0], c.Flags[:0], c.Charsets[:0]
	src, dst, set := c.Src, c.Dst, c.Set
	src.Reset()
	dst.Reset()
	set.Reset()
	*c = Code{Name: Bytes(name), Kind: codeKind(name), Src: src, Dst: dst, Set: set}
	switch c.Kind {
	case CodeCapability:
		for {
			more, err := d.codeSP()
			if err != nil {
				return nil, err
			}
			if !more {
				break
			}
			a, err := t.Atom()
			if err != nil {
				return nil, err
			}
			caps = append(caps, Bytes(a))
		}
		c.Caps = caps
	case CodePermanentFlags:
		if err := t.SP(); err != nil {
			return nil, err
		}
		if c.Flags, err = d.flagList(flags); err != nil {
			return nil, err
		}
	case CodeBadCharset:
		if more, err := d.codeSP(); err != nil {
			return nil, err
		} else if more {
			err := d.list(false, func() error {
				// astring without literals: a code stays on one line.
				var cs []byte
				c, err := t.Peek()
				if err == nil && c == '{' {
					return errSyntax("literal inside a response code")
				}
				if err == nil {
					cs, err = t.AString()
				}
				charsets = append(charsets, Bytes(cs))
				return err
			})
			if err != nil {
				return nil, err
			}
		}
		c.Charsets = charsets
	case CodeUIDNext, CodeUIDValidity, CodeUnseen:
		if err := t.SP(); err != nil {
			return nil, err
		}
		// nz-numbers of 32 bits (RFC 3501, 9051): a 0, or a number
		// past 32 bits (which commands cut to 0, "unknown", without a
		// word), is refused as any code that does not parse is:
		// respText makes it text. But a UIDNEXT past 32 bits is kept
		// (Zoho predicts one: the quirk table), for commands to take
		// as unknown.
		if c.Num, err = t.Number(); err != nil {
			return nil, err
		}
		switch {
		case c.Num == 0 && c.Kind == CodeUIDValidity:
			return nil, errUIDValidityZero
		case c.Num == 0:
			return nil, errSyntax(c.Kind.String() + " 0 (an nz-number)")
		case c.Num > 1<<32-1 && c.Kind != CodeUIDNext:
			return nil, errSyntax(fmt.Sprintf("%s %d overflows 32 bits", c.Kind, c.Num))
		}
	case CodeHighestModSeq:
		if err := t.SP(); err != nil {
			return nil, err
		}
		if c.Num, err = d.modSeq(); err != nil {
			return nil, err
		}
	case CodeAppendUID, CodeCopyUID:
		if err := t.SP(); err != nil {
			return nil, err
		}
		if c.UIDValidity, err = d.num32(); err != nil {
			return nil, err
		}
		if c.UIDValidity == 0 {
			return nil, errUIDValidityZero
		}
		if err := t.SP(); err != nil {
			return nil, err
		}
		target := &c.Dst
		if c.Kind == CodeCopyUID {
			if err := d.seqSet(&c.Src); err != nil {
				return nil, err
			}
			if err := t.SP(); err != nil {
				return nil, err
			}
		}
		if err := d.seqSet(target); err != nil {
			return nil, err
		}
		// RFC 4315 allows no "*" in either uid-set: a COPYUID or
		// APPENDUID holding one names a UID the server did not give
		// (commands.CopyResult cannot pair it, and joined with the
		// COPYUIDs of a copy's other parts it made theirs unpairable
		// too; Append took 12 of "12:*" for the UID). Refused as any
		// code that does not parse is: respText makes it text.
		if err := noStar(&c.Src, c.Kind.String()); err != nil {
			return nil, err
		}
		if err := noStar(&c.Dst, c.Kind.String()); err != nil {
			return nil, err
		}
	case CodeModified:
		if err := t.SP(); err != nil {
			return nil, err
		}
		// The messages that failed UNCHANGEDSINCE (RFC 7162 section
		// 3.1.3): "*" is none of them.
		err := d.seqSet(&c.Set)
		if err == nil {
			err = noStar(&c.Set, "MODIFIED")
		}
		if err != nil {
			if !isIOError(err) {
				err = &keptCodeError{err}
			}
			return nil, err
		}
	case CodeMetadata:
		if err := t.SP(); err != nil {
			return nil, err
		}
		sub, err := t.Atom()
		if err != nil {
			return nil, err
		}
		c.Sub = Bytes(sub)
		if eqFold(sub, "LONGENTRIES") || eqFold(sub, "MAXSIZE") {
			if err := t.SP(); err != nil {
				return nil, err
			}
			if c.Num, err = t.Number(); err != nil {
				return nil, err
			}
		}
	case CodeMailboxID:
		if err := t.SP(); err != nil {
			return nil, err
		}
		if err := t.Expect('('); err != nil {
			return nil, err
		}
		id, err := t.Atom()
		if err != nil {
			return nil, err
		}
		c.Sub = Bytes(id)
		if err := t.Expect(')'); err != nil {
			return nil, err
		}
	default:
		if c.Raw, err = d.rawCodeArgs(); err != nil {
			return nil, err
		}
	}
	if err := d.skipSpaces(); err != nil {
		return nil, err
	}
	if err := t.Expect(']'); err != nil {
		return nil, err
	}
	return c, nil
}

// codeSP consumes SP before another argument, or reports false at "]".
func (d *Decoder) codeSP() (bool, error) {
	t := d.t
	c, err := t.Peek()
	if err != nil || c == ']' {
		return false, err
	}
	if err := t.SP(); err != nil {
		return false, err
	}
	c, err = t.Peek()
	return c != ']', err
}

// rawCodeArgs reads the arguments of an unknown code up to its "]", raw.
func (d *Decoder) rawCodeArgs() (Bytes, error) {
	t := d.t
	c, err := t.Peek()
	if err != nil || c == ']' {
		return nil, err
	}
	if err := t.SP(); err != nil {
		return nil, err
	}
	m := t.Mark()
	depth := 0
	for {
		c, err := t.Peek()
		if err != nil {
			return nil, err
		}
		if c == '\r' || c == '\n' {
			return nil, errSyntax("response code not closed by ']'")
		}
		if c == ']' && depth == 0 {
			b, err := t.Since(m)
			return Bytes(b), err
		}
		tok, err := t.Next()
		if err != nil {
			return nil, err
		}
		switch tok.Kind {
		case wire.KindLParen, wire.KindLBracket:
			depth++
		case wire.KindRParen, wire.KindRBracket:
			depth--
		case wire.KindLiteral:
			// RFC 9051 allows no literal in a response code: this is
			// text that begins with '['.
			return nil, errSyntax("literal inside a response code")
		}
	}
}

// codeKind looks a code name up, ignoring case, without allocating.
func codeKind(name []byte) CodeKind {
	var buf [24]byte
	if len(name) > len(buf) {
		return CodeOther
	}
	for i, c := range name {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	if k, ok := codeNames[string(buf[:len(name)])]; ok {
		return k
	}
	return CodeOther
}

// errUIDValidityZero refuses a UIDVALIDITY of 0 in a code (UIDVALIDITY,
// COPYUID, APPENDUID): RFC 3501, 4315 and 9051 make it an nz-number, and
// 0 is what commands.MailboxState and CopyResult hold when none was
// given. Such a code is text, as any code that does not parse.
var errUIDValidityZero = errSyntax("UIDVALIDITY 0 (UIDVALIDITY is an nz-number)")

// keptCodeError is the failure of a code whose arguments are wrong and
// which respText must not take for the start of the text, as it takes
// other codes it cannot parse: MODIFIED, whose loss says that a
// conditional STORE stored every message. The status is then a
// *DecodeError (for a tagged one, its command ends with it).
type keptCodeError struct{ err error }

func (e *keptCodeError) Error() string { return e.err.Error() }
func (e *keptCodeError) Unwrap() error { return e.err }
