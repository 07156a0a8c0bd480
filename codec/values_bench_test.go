package codec_test

import (
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
)

// benchMessageDates is a mix of six real-world Date header forms.
var benchMessageDates = [][]byte{
	[]byte("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)"),
	[]byte("Mon, 2 Jan 2006 15:04:05 +0000"),
	[]byte("2 Jan 06 15:04 GMT"),
	[]byte("Tue, 14 Nov 2023 09:30:00 +0100 (CET)"),
	[]byte("Fri, 1 Mar 2024 23:59:59 EST"),
	[]byte("  Thu,  5 Sep 2019 07:08:09 +0530."),
}

func BenchmarkParseInternalDate(b *testing.B) {
	in := []byte("17-Jul-1996 02:44:25 -0700")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codec.ParseInternalDate(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendInternalDate(b *testing.B) {
	t := time.Date(1996, 7, 17, 2, 44, 25, 0, time.FixedZone("", -7*3600))
	buf := make([]byte, 0, 32)
	b.ReportAllocs()
	for b.Loop() {
		buf = codec.AppendInternalDate(buf[:0], t)
	}
}

func BenchmarkParseMessageDate(b *testing.B) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := codec.ParseMessageDate(benchMessageDates[i%len(benchMessageDates)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkParseMessageDateNetMail is the reference: net/mail.ParseDate,
// which tries layouts one after the other (what go-imap uses).
func BenchmarkParseMessageDateNetMail(b *testing.B) {
	strs := make([]string, len(benchMessageDates))
	for i, d := range benchMessageDates {
		strs[i] = string(d)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		mail.ParseDate(strs[i%len(strs)]) // some forms fail: that is the point
		i++
	}
}

func BenchmarkSeqSetParseInto(b *testing.B) {
	// An ESEARCH ALL result with 100,000 UIDs, half of them in runs.
	var sb strings.Builder
	for i := 1; i <= 50000; i++ {
		if i > 1 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Itoa(i * 4))
		sb.WriteByte(':')
		sb.WriteString(strconv.Itoa(i*4 + 1))
	}
	in := []byte(sb.String())
	var s codec.SeqSet
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.ParseInto(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeqSetAddNum(b *testing.B) {
	b.ReportAllocs()
	var s codec.SeqSet
	for b.Loop() {
		s.Reset()
		for n := uint32(1); n <= 1000; n++ {
			s.AddNum(n * 2)
		}
	}
}

func BenchmarkSeqSetContains(b *testing.B) {
	var s codec.SeqSet
	for n := uint32(1); n <= 100000; n++ {
		s.AddNum(n * 2)
	}
	b.ReportAllocs()
	n := uint32(0)
	for b.Loop() {
		s.Contains(n)
		n += 7
	}
}

func BenchmarkDecodeMailbox(b *testing.B) {
	in := []byte("~peter/mail/&U,BTFw-/&ZeVnLIqe-")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codec.DecodeMailbox(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeMailbox(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = codec.AppendEncodeMailbox(buf[:0], "~peter/mail/台北/日本語")
	}
}

func BenchmarkDecodeHeader(b *testing.B) {
	for _, in := range []string{
		"Quarterly report, final version",
		"=?UTF-8?B?UmU6IMOcYmVyc2ljaHQgZGVyIMOEbmRlcnVuZ2Vu?=",
		"=?ISO-8859-1?Q?Caf=E9_meeting?=",
		"=?iso-2022-jp?B?GyRCJEgkahsoQg==?=",
	} {
		in := []byte(in)
		b.Run(string(in[:min(len(in), 12)]), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				codec.DecodeHeader(in)
			}
		})
	}
}
