//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/testserver"
)

// r45CReadChars is this process's rchar (/proc/self/io): the bytes read
// by read(2) and the like, files and sockets alike.
func r45CReadChars(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	b.Fatal("no rchar in /proc/self/io")
	return 0
}

// BenchmarkReview45CImportMbox imports a generated mbox (40 messages of
// 1 MiB, LF line ends, some ">From " lines) into a real Dovecot, a new
// mailbox each time; rchar-MB/op is what the process read (the mbox's
// passes, and Dovecot's answers).
func BenchmarkReview45CImportMbox(b *testing.B) {
	srv := testserver.StartT(b, &testserver.Options{Seed: 4501})
	ca := filepath.Join(b.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.CAPEM, 0o600); err != nil {
		b.Fatal(err)
	}
	setEnv(b, "IMAPKIT_PASSWORD", testserver.Password)
	setEnv(b, "IMAPKIT_URL", "")
	_, tp, _ := strings.Cut(srv.TLSAddr, ":")
	url := "imaps://alice@localhost:" + tp

	path := filepath.Join(b.TempDir(), "big.mbox")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	line := strings.Repeat("abcdefghij", 7) + "\n"
	for i := 0; i < 40; i++ {
		fmt.Fprintf(w, "From a@example.com Sat Jan  3 01:05:34 1996\nFrom: a@example.com\nSubject: m%d\nMessage-ID: <m%d@r45>\n\n", i, i)
		for n := 0; n < 1<<20; n += len(line) {
			if n%(64*len(line)) == 0 {
				io.WriteString(w, ">From the quoted line\n")
			}
			io.WriteString(w, line)
		}
		io.WriteString(w, "\n")
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	var stderr bytes.Buffer
	var read int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		os.Remove(importStatePath(path))
		stderr.Reset()
		r0 := r45CReadChars(b)
		b.StartTimer()
		code := run(testEnv(b), []string{"import", url, path, "--to", fmt.Sprintf("B%d", i), "--ca-file", ca, "--timeout", "60s", "--quiet"}, strings.NewReader(""), io.Discard, &stderr)
		b.StopTimer()
		read += r45CReadChars(b) - r0
		if code != 0 {
			b.Fatalf("import: exit %d: %s", code, stderr.String())
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(read)/float64(b.N)/(1<<20), "rchar-MB/op")
}
