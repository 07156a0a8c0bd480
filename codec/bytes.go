package codec

import (
	"encoding/json"
	"unicode/utf8"
)

// Bytes holds bytes decoded from the wire. In values returned by a Decoder
// they borrow the tokenizer's buffer and are valid until the next call to
// Decoder.Next; Clone (on the response) or String copies them.
//
// A nil Bytes stands for NIL where the grammar allows NIL; an empty non-nil
// Bytes is the empty string "".
type Bytes []byte

// String returns a copy of b as a string.
func (b Bytes) String() string { return string(b) }

// IsNil reports whether b stands for NIL.
func (b Bytes) IsNil() bool { return b == nil }

// Clone returns a copy of b that does not borrow anything; nil stays nil.
func (b Bytes) Clone() Bytes {
	if b == nil {
		return nil
	}
	c := make(Bytes, len(b))
	copy(c, b)
	return c
}

// MarshalJSON encodes b as a JSON string (null for NIL). Bytes that are not
// valid UTF-8 are encoded one rune per byte (Latin-1), so nothing is lost.
func (b Bytes) MarshalJSON() ([]byte, error) {
	if b == nil {
		return []byte("null"), nil
	}
	if utf8.Valid(b) {
		return json.Marshal(string(b))
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return json.Marshal(string(r))
}
