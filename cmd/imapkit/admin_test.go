package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/wire"
)

// TestMetadataGetValueOverStringBound: metadata get of entries one of
// which has a value over the session's string bound (64 KiB, the
// defaults). The library failed the whole answer, so the command printed
// nothing but the error; it returns the other entries now with a
// *commands.MetadataTooLargeError, and the command prints them, then the
// error naming the entry left out, and exits non-zero.
func TestMetadataGetValueOverStringBound(t *testing.T) {
	big := strings.Repeat("v", wire.DefaultMaxStringLiteral+1)
	url := "imap://alice@" + jsonServer(t, answering("IMAP4rev1 METADATA", func(c *hostile.Conn, cmd *hostile.Command) (bool, error) {
		if cmd.Name != "GETMETADATA" {
			return false, nil
		}
		return true, c.Lines(fmt.Sprintf("* METADATA INBOX (/private/a \"small\" /private/big {%d}\r\n%s)", len(big), big), cmd.Tag+" OK done")
	}))
	code, out, errs := runCLI(t, "", "metadata", url, "--insecure-plaintext", "get", "INBOX", "/private/a", "/private/big")
	if code == 0 || !strings.Contains(out, "/private/a") || !strings.Contains(out, "small") || !strings.Contains(errs, `"/private/big" (65537 bytes)`) {
		t.Errorf("metadata get: exit %d\nstdout: %s\nstderr: %s\nwant /private/a printed, /private/big named in the error, a non-zero exit", code, out, errs)
	}
	code, out, errs = runCLI(t, "", "metadata", url, "--insecure-plaintext", "get", "INBOX", "/private/a", "/private/big", "--json")
	var j struct {
		Entries []struct{ Name, Value string }
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code == 0 || len(j.Entries) != 1 || j.Entries[0].Value != "small" || !strings.Contains(errs, "/private/big") {
		t.Errorf("metadata get --json: exit %d (%v)\nstdout: %s\nstderr: %s", code, err, out, errs)
	}
}

// TestMetadataGetAnswerOverLineBound: metadata get --depth infinity
// --max-value 2 MiB of two entries of 2 MiB each, in one METADATA
// response of 4 MiB: past the session's line bound (1 MiB plus
// --max-value), each value within --max-value. The answer cannot be read
// (nothing printed, exit non-zero), and the error says why and what to
// do: ask for fewer entries at once. Before, it said only "line too long
// ... exceeds the limit of 3145728", which read as a contradiction of
// --max-value's "values up to BYTES are printed whole".
func TestMetadataGetAnswerOverLineBound(t *testing.T) {
	val := strings.Repeat("v", 2<<20)
	url := "imap://alice@" + jsonServer(t, answering("IMAP4rev1 METADATA", func(c *hostile.Conn, cmd *hostile.Command) (bool, error) {
		if cmd.Name != "GETMETADATA" {
			return false, nil
		}
		return true, c.Lines(fmt.Sprintf("* METADATA INBOX (/private/a {%d}\r\n%s /private/b {%d}\r\n%s)", len(val), val, len(val), val), cmd.Tag+" OK done")
	}))
	code, out, errs := runCLI(t, "", "metadata", url, "--insecure-plaintext", "get", "INBOX", "/private", "--depth", "infinity", "--max-value", fmt.Sprint(2<<20))
	if code == 0 || !strings.Contains(errs, "bound on a line (3145728 bytes") || !strings.Contains(errs, "fewer entries") {
		t.Errorf("metadata get of two 2 MiB values in one answer, --max-value 2 MiB: exit %d\nstdout: %s\nstderr: %s\nwant a non-zero exit, the error naming the line bound and asking for fewer entries", code, out, errs)
	}
}
