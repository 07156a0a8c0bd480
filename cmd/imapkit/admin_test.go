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
