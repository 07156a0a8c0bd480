//go:build linux

package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/wire"
)

// TestMetadataGetMaxValueDovecot: a METADATA value of 100 KiB, over the
// session's string bound (wire.DefaultMaxStringLiteral, 64 KiB), on
// Dovecot. With the defaults metadata get leaves it out and names it
// (exit 1); with --max-value at or over its size it is printed whole; a
// --max-value past the command's ceiling is a usage error. Before, no
// flag could raise the bound: a value over 64 KiB could not be read with
// imapkit at all.
func TestMetadataGetMaxValueDovecot(t *testing.T) {
	// Waits on a Dovecot of its own and on the run.
	t.Parallel()
	b := testserver.StartT(t, nil)
	_, bURL := urls(b)
	c := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	ca := writeCA(t, b)
	big := strings.Repeat("v", wire.DefaultMaxStringLiteral+36<<10)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.SetMetadata(ctx, "INBOX", []commands.MetadataEntry{{Name: "/private/comment", Value: []byte(big)}}); err != nil {
		t.Fatal(err)
	}
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_URL", "")
	get := func(flags ...string) (int, string, string) {
		args := append([]string{"metadata", bURL, "--ca-file", ca, "--timeout", "20s", "get", "INBOX", "/private/comment"}, flags...)
		return runCLI(t, "", args...)
	}
	if code, out, errs := get(); code == exitOK || !strings.Contains(errs, `"/private/comment" (102400 bytes)`) {
		t.Errorf("metadata get at the defaults: exit %d\nstdout: %.200s\nstderr: %.400s\nwant the value left out and named, a non-zero exit", code, out, errs)
	}
	code, out, errs := get("--max-value", "102400", "--json")
	var j struct {
		Entries []struct{ Name, Value string }
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != exitOK || len(j.Entries) != 1 || j.Entries[0].Value != big {
		t.Errorf("metadata get --max-value 102400 --json: exit %d (%v)\nstdout: %.200s\nstderr: %.400s\nwant the value whole", code, err, out, errs)
	}
	if code, out, errs := get("--max-value", "102399"); code == exitOK || !strings.Contains(errs, `"/private/comment" (102400 bytes)`) {
		t.Errorf("metadata get --max-value 102399: exit %d\nstdout: %.200s\nstderr: %.400s\nwant the value left out and named, a non-zero exit", code, out, errs)
	}
	if code, _, errs := get("--max-value", "16777217"); code != exitUsage || !strings.Contains(errs, "--max-value") {
		t.Errorf("metadata get --max-value past the ceiling: exit %d %q; want %d naming --max-value", code, errs, exitUsage)
	}
}
