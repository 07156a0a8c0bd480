package codec

import "testing"

// BenchmarkDecodeEnvelopeBodyStructure decodes the ENVELOPE and the
// multipart BODYSTRUCTURE of a typical FETCH response (msgRealisticLine).
func BenchmarkDecodeEnvelopeBodyStructure(b *testing.B) {
	l := newMsgLineDecoder(msgRealisticLine)
	b.ReportAllocs()
	b.SetBytes(int64(len(l.line)))
	for b.Loop() {
		if _, _, err := l.decode(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendEnvelopeBodyStructure encodes them back.
func BenchmarkAppendEnvelopeBodyStructure(b *testing.B) {
	l := newMsgLineDecoder(msgRealisticLine)
	e, bs, err := l.decode()
	if err != nil {
		b.Fatal(err)
	}
	buf := appendBodyStructure(appendEnvelope(nil, e), bs)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = appendBodyStructure(appendEnvelope(buf[:0], e), bs)
	}
}

// BenchmarkCloneBodyStructure deep-copies the decoded body structure.
func BenchmarkCloneBodyStructure(b *testing.B) {
	l := newMsgLineDecoder(msgRealisticLine)
	_, bs, err := l.decode()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = bs.Clone()
	}
}
