package wire

import "testing"

func TestSeqSetAppend(t *testing.T) {
	tests := []struct {
		set  []SeqRange
		want string
	}{
		{nil, ""},
		{[]SeqRange{{1, 1}}, "1"},
		{[]SeqRange{{0, 0}}, "*"},
		{[]SeqRange{{1, 5}}, "1:5"},
		{[]SeqRange{{9, 5}}, "9:5"},
		{[]SeqRange{{9, 0}}, "9:*"},
		{[]SeqRange{{0, 4}}, "*:4"},
		{[]SeqRange{{1, 5}, {7, 7}, {9, 0}}, "1:5,7,9:*"},
		{[]SeqRange{{1, 100}, {200, 200}}, "1:100,200"},
		{[]SeqRange{{4294967295, 1}}, "4294967295:1"},
		{[]SeqRange{{3, 3}, {3, 3}}, "3,3"},
	}
	for _, tc := range tests {
		if got := string(AppendSeqSet([]byte("x "), tc.set)); got != "x "+tc.want {
			t.Errorf("AppendSeqSet(%v) = %q; want %q", tc.set, got, "x "+tc.want)
		}
	}
}

func TestSeqSetRangeString(t *testing.T) {
	tests := []struct {
		r    SeqRange
		want string
	}{
		{SeqRange{5, 5}, "5"},
		{SeqRange{0, 0}, "*"},
		{SeqRange{2, 0}, "2:*"},
		{SeqRange{7, 3}, "7:3"},
		{SeqRange{4294967295, 4294967295}, "4294967295"},
	}
	for _, tc := range tests {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("%#v.String() = %q; want %q", tc.r, got, tc.want)
		}
		if got := string(tc.r.AppendTo([]byte("<"))); got != "<"+tc.want {
			t.Errorf("%#v.AppendTo(\"<\") = %q; want %q", tc.r, got, "<"+tc.want)
		}
	}
}

func TestSeqSetAllocs(t *testing.T) {
	buf := make([]byte, 0, 64)
	set := []SeqRange{{1, 100}, {200, 200}, {300, 0}}
	if n := testing.AllocsPerRun(100, func() { buf = AppendSeqSet(buf[:0], set) }); n != 0 {
		t.Errorf("AppendSeqSet allocs = %v; want 0", n)
	}
}
