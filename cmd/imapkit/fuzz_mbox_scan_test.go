package main

import "testing"

// FuzzMboxScan: import's mbox scan on hostile bytes (an mbox is
// whatever file the user points import at): see checkMboxScan. Only the
// export's output was fuzzed (FuzzMboxRoundTrip), never an mbox of
// another writer.
func FuzzMboxScan(f *testing.F) {
	for _, s := range []string{
		"From a Sat Jan  3 01:05:34 1996\nSubject: x\nStatus: RO\n\nbody\n>From y\n\nFrom b Sat Jan  3 01:05:34 1996\r\n\r\n",
		"From \n\nFrom \nFrom \n\n\n",
		"From x\r\rFrom y\n\r\n\r\nFrom z",
		"From a\nStatus: R\nStatus: R\nX-Status: AFAF\nX-Status: TD\n\nx\x00y\n",
		"Subject: no From\n",
		"From a Mon Feb 30 25:61:61 99999 +9999\n>>From x\n>From\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > 1<<16 {
			return
		}
		checkMboxScan(t, dir, raw)
	})
}
