package wire

import "strconv"

// SeqRange is one element of an IMAP sequence set (RFC 3501 section 9,
// "sequence-set"): a single number or a range of message sequence numbers
// or UIDs.
//
// The value 0 stands for "*" (the largest number in use). Start == Stop is a
// single number. A range may be given reversed (9:5 is legal IMAP and means
// the same as 5:9); it is kept as given, never reordered or merged, so that
// the wire form is exactly what the caller built. The full set type with
// normalisation lives in package codec and is built on SeqRange.
type SeqRange struct {
	Start, Stop uint32
}

// AppendTo appends the wire form of r ("5", "*", "1:5", "9:*", "*:4") to dst
// and returns the extended slice.
func (r SeqRange) AppendTo(dst []byte) []byte {
	dst = seqAppendNum(dst, r.Start)
	if r.Stop != r.Start {
		dst = append(dst, ':')
		dst = seqAppendNum(dst, r.Stop)
	}
	return dst
}

// String returns the wire form of r, e.g. "1:5" or "7:*".
func (r SeqRange) String() string {
	var b [24]byte
	return string(r.AppendTo(b[:0]))
}

// AppendSeqSet appends the wire form of set ("1:5,7,9:*") to dst and returns
// the extended slice. The ranges are written in the order given, separated by
// commas. An empty set appends nothing; an empty sequence set is not valid
// IMAP, and Encoder.SeqSet reports it as ErrEmptySeqSet.
func AppendSeqSet(dst []byte, set []SeqRange) []byte {
	for i, r := range set {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = r.AppendTo(dst)
	}
	return dst
}

// seqAppendNum appends a sequence number, 0 meaning "*".
func seqAppendNum(dst []byte, n uint32) []byte {
	if n == 0 {
		return append(dst, '*')
	}
	return strconv.AppendUint(dst, uint64(n), 10)
}
