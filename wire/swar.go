package wire

import (
	"encoding/binary"
	"math/bits"
)

// Scans eight bytes at a time (SWAR: SIMD within a register). Each mask
// function below takes eight bytes as a little-endian word v and sets the
// high bit (0x80) of the first byte that ends the scan; the index of that
// byte is bits.TrailingZeros64(mask)/8, and a zero mask means that none of
// the eight does.
//
// The bit trick, for one byte b of v and one byte value c:
//
//   - x = b ^ c is zero exactly when b == c; x - 1 borrows into the high
//     bit when x is zero, and (x - 1) &^ x keeps that bit only when x's
//     own high bit is clear, so it is set for x == 0 and for no x below
//     0x80 but zero (x >= 0x80 fails the &^ x). For a whole word,
//     (X - 0x0101...01) &^ X, with X = v ^ (c * 0x0101...01).
//   - b - c alone (without the XOR) borrows into the high bit when b < c,
//     so (v - c*0x0101...01) &^ v flags the bytes below c (c <= 0x80),
//     and no byte of 0x80 or more.
//
// A borrow that crosses into the next byte (from a byte that is flagged)
// can flag bytes after it that should not be; bytes before the first
// flagged byte never are. So the lowest flag is exact and the masks are
// used only for it. ORing several such masks keeps that: every false flag
// lies above a true one of its own mask. TestSWAR checks every function
// against a plain loop over every byte value at every position, and on
// random words.
const (
	swarLo = 0x0101010101010101 // 0x01 in every byte
	swarHi = 0x8080808080808080 // the high bit of every byte
)

// quotedMask flags the first byte of v that is '"', '\\' or a control byte
// below 0x0e (CR and LF among them). A control byte other than CR and LF
// (a TAB) stops the fast scans for nothing: the general path reads such
// strings.
func quotedMask(v uint64) uint64 {
	q, bs := v^(swarLo*'"'), v^(swarLo*'\\')
	return ((q-swarLo)&^q | (bs-swarLo)&^bs | (v-swarLo*0x0e)&^v) & swarHi
}

// quotedStop returns the index of the first '"', '\\' or control byte
// below 0x0e (see quotedMask) in b at or after i, or len(b). Quoted strings
// are the bulk of ENVELOPE and BODYSTRUCTURE data.
func quotedStop(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		if m := quotedMask(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x0e {
			break
		}
	}
	return i
}

// atomMask flags the first byte of v that cannot be part of an atom read
// by Next (one outside nextSet): a control byte or space (below 0x21), '"',
// '(', ')', '[', ']', '{' or DEL. Two pairs share one test each: '(' and
// ')' differ only in bit 0, '[' and '{' only in bit 5, so clearing that bit
// of every byte of the XOR makes both zero (and no other byte).
func atomMask(v uint64) uint64 {
	paren := (v ^ swarLo*'(') &^ swarLo          // '(' or ')'
	brace := (v ^ swarLo*'[') &^ (swarLo * 0x20) // '[' or '{'
	rbrak, quote, del := v^swarLo*']', v^swarLo*'"', v^swarLo*0x7f
	return ((v-swarLo*0x21)&^v | (paren-swarLo)&^paren | (brace-swarLo)&^brace |
		(rbrak-swarLo)&^rbrak | (quote-swarLo)&^quote | (del-swarLo)&^del) & swarHi
}

// atomStop returns the index of the first byte of b at or after i that
// cannot be part of an atom read by Next (see atomMask), or len(b).
func atomStop(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		if m := atomMask(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b) && charClass[b[i]]&clsNext != 0; i++ {
	}
	return i
}

// digitMask flags the first byte of v that is not an ASCII digit: v - '0'
// borrows into the high bit of a byte below '0' and keeps it set for a
// byte from 0xb0 up; v + 0x46 carries into it for a byte from ':' (0x3a +
// 0x46 = 0x80) up to 0xb9. A carry out of a byte of 0xba or more only
// disturbs the bytes after it, and that byte is flagged by the borrow test.
func digitMask(v uint64) uint64 {
	return ((v - swarLo*'0') | (v + swarLo*0x46)) & swarHi
}

// digitStop returns the index of the first byte of b at or after i that is
// not an ASCII digit, or len(b).
func digitStop(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		if m := digitMask(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b) && b[i]-'0' < 10; i++ {
	}
	return i
}
