package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestProxyLongSecretPrintedFormWhole: a credential longer than a printed
// line (maxPrinted) with a byte the printer escapes (a tab) is looked for
// in its printed form too; that form was made by a printer that stops at
// maxPrinted, so only its first 4 KiB were kept: the server's echo of the
// whole credential printed "***" and then the rest of it. Defaults.
func TestProxyLongSecretPrintedFormWhole(t *testing.T) {
	sec := []byte("\t" + strings.Repeat("s3cr3t-", 10<<10/7))
	var ss secretSet
	ss.add(sec)
	p := printer{prefix: "[1] S: ", redact: &ss}
	p.begin(false, "")
	p.add([]byte("a1 NO bad password "))
	p.add(sec)
	p.add([]byte(" rejected"))
	got := p.end()
	if bytes.Contains(got, []byte("s3cr3t")) {
		i := bytes.Index(got, []byte("s3cr3t"))
		t.Errorf("the printed line shows the %d-byte credential from byte %d: %.120q", len(sec), i, got[max(0, i-20):])
	}
}
