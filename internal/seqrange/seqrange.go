// Package seqrange orders and searches the ranges of a sequence set
// (wire.SeqRange, 0 standing for "*"): the key order codec's SeqSet keeps
// its ranges in, and the searches of a canonical list of ranges (sorted
// by that order, apart) that SeqSet's operations and the commands
// package's cut of VANISHED (EARLIER) to a set of UIDs make. Written once
// here, not copied: codec's SeqSet and the commands that search its
// ranges order "*" the same way.
package seqrange

import "github.com/imapkit/imapkit/wire"

// Key maps a sequence number or UID to an order key in which "*" (0)
// sorts after every number. "*" is given the key 2^32+1, not 2^32, so
// that 4294967295 and "*" are not considered adjacent and are never
// merged into "4294967295:*" (which would mean something else).
func Key(n uint32) uint64 {
	if n == 0 {
		return 1<<32 + 1
	}
	return uint64(n)
}

// Unkey is the inverse of Key (the key 2^32, between the numbers and
// "*", stands for no number: callers never pass it).
func Unkey(k uint64) uint32 {
	if k > 1<<32 {
		return 0
	}
	return uint32(k)
}

// SearchStop returns the index i of the first range of sorted (canonical)
// that does not end before key k, len(sorted) if none, by binary search
// (as slices.BinarySearchFunc), and the number c of ranges it compared k
// with.
func SearchStop(sorted []wire.SeqRange, k uint64) (i, c int) {
	i, j := 0, len(sorted)
	for i < j {
		h := int(uint(i+j) >> 1)
		c++
		if Key(sorted[h].Stop) < k {
			i = h + 1
		} else {
			j = h
		}
	}
	return i, c
}

// Gallop returns the index of the first range of sorted (canonical), at
// or after i, that does not end before key k (len(sorted) if none), by
// an exponential search from i then a binary search (SearchStop):
// O(log d) for a result d ranges after i. c is the number of ranges it
// compared k with.
func Gallop(sorted []wire.SeqRange, i int, k uint64) (j, c int) {
	lo, hi, step := i, i, 1
	for hi < len(sorted) {
		c++
		if Key(sorted[hi].Stop) >= k {
			break
		}
		// Every range up to hi ends before k.
		lo = hi + 1
		hi, step = lo+step, 2*step
	}
	hi = min(hi, len(sorted))
	j, n := SearchStop(sorted[lo:hi], k)
	return lo + j, c + n
}
