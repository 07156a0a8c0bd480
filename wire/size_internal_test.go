package wire

import (
	"testing"
	"unsafe"
)

// TestTokenizerSizeClass keeps a Tokenizer in the allocator's 384-byte
// size class: a session holds one per connection, and one more field
// past it costs 32 bytes each (the next class is 416). Group small fields (the line's flags
// beside pend and head) to find room before raising the bound.
func TestTokenizerSizeClass(t *testing.T) {
	if size := unsafe.Sizeof(Tokenizer{}); size > 384 {
		t.Errorf("Tokenizer is %d bytes, past its 384-byte size class", size)
	}
}
