package session_test

import (
	"strconv"
	"testing"
)

// TestRedactEchoAcrossLiteralLineEndLongFirstPart: as
// TestRedactEchoAcrossLiteralLineEnd, the password's first part, sent
// back as a literal that ends the first line, longer than the 32 bytes
// the tracer keeps of a line as received (44 bytes, then CR LF): the
// carry to the next line holds only its last 30, so the whole password
// is never in a window, and the rest that opens the next line
// ("horse-battery-staple-rest is wrong") is found only as a credential's
// end at a line's start, as after a cut line. With the trace writer and
// the logger set (defaults otherwise) and with the history alone.
func TestRedactEchoAcrossLiteralLineEndLongFirstPart(t *testing.T) {
	const first, rest = "correct-horse-battery-staple-and-more-words-", "horse-battery-staple-rest"
	echo := "TAG NO bad password {" + strconv.Itoa(len(first)) + "}\r\n" + first + "\r\n" + rest + " is wrong"
	for _, traced := range []bool{false, true} {
		echoAtLoginHidden(t, echo, first+"\r\n"+rest, []string{"horse-battery", "staple-rest"}, traced)
	}
}
