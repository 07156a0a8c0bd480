package auth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/transport"
)

func Example() {
	// A scripted server on an in-memory pipe stands in for
	// transport.Dial(ctx, "imap.example.com:143", nil).
	client, server := transport.Pipe()
	go func() {
		defer server.Close()
		io.WriteString(server, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=SCRAM-SHA-256] ready\r\n")
		buf := make([]byte, 4096)
		n, _ := server.Read(buf)
		line := string(buf[:n])
		tag, _, _ := strings.Cut(line, " ")
		if strings.Contains(line, "AUTHENTICATE PLAIN") {
			io.WriteString(server, tag+" OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n")
		} else {
			io.WriteString(server, tag+" NO not this one\r\n")
		}
		server.Read(buf)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := auth.Open(ctx, client, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Session().Close()
	// PLAIN sends the password in the clear: allowed here because the
	// connection is local (a pipe); on a remote plaintext connection it
	// would be refused with ErrInsecure.
	err = c.Authenticate(ctx, auth.NewPlain("", "alice", "secret"))
	if errors.Is(err, auth.ErrInsecure) {
		fmt.Println("use TLS")
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Session().State(), c.Session().HasCap("IDLE"))
	// Output: AUTH true
}

func ExampleChoose() {
	caps := []string{"IMAP4rev1", "AUTH=PLAIN", "AUTH=CRAM-MD5", "AUTH=SCRAM-SHA-1", "AUTH=SCRAM-SHA-256"}
	name, _, _ := auth.Choose(caps, &auth.Credentials{Username: "alice", Password: "secret"}, false)
	fmt.Println(name)
	_, _, err := auth.Choose([]string{"AUTH=PLAIN"}, &auth.Credentials{Username: "alice", Password: "secret"}, false)
	fmt.Println(errors.Is(err, auth.ErrInsecure))
	// Output:
	// SCRAM-SHA-256
	// true
}
