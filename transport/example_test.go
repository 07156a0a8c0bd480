package transport_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"strings"
	"time"

	"github.com/imapkit/imapkit/transport"
)

// Pipe connects a client to a scripted server in memory. Because each
// direction is buffered, the client can pipeline commands before the server
// reads any of them.
func ExamplePipe() {
	client, server := transport.Pipe()

	// A scripted server: greet, then answer each command with a tagged OK.
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		io.WriteString(server, "* OK IMAP4rev1 ready\r\n")
		r := bufio.NewReader(server)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, cmd, _ := strings.Cut(strings.TrimSpace(line), " ")
			if cmd == "LOGOUT" {
				io.WriteString(server, "* BYE\r\n")
			}
			fmt.Fprintf(server, "%s OK %s completed\r\n", tag, cmd)
		}
	}()

	// Pipeline three commands without waiting for the responses.
	for _, cmd := range []string{"a1 NOOP", "a2 CAPABILITY", "a3 LOGOUT"} {
		if _, err := io.WriteString(client, cmd+"\r\n"); err != nil {
			log.Fatal(err)
		}
	}
	r := bufio.NewReader(client)
	for {
		line, err := r.ReadString('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Print(strings.TrimRight(line, "\r\n"), "\n")
		if strings.HasPrefix(line, "a3 ") {
			client.Close()
			break
		}
	}
	<-done
	// Output:
	// * OK IMAP4rev1 ready
	// a1 OK NOOP completed
	// a2 OK CAPABILITY completed
	// * BYE
	// a3 OK LOGOUT completed
}

// StartTLS upgrades a plain connection after the server accepted STARTTLS.
// Everything read through the plaintext bufio.Reader is dropped with it.
func ExampleStartTLS() {
	ctx := context.Background()
	conn, err := transport.Dial(ctx, "imap.example.com", nil)
	if err != nil {
		log.Fatal(err)
	}
	r := bufio.NewReader(conn)
	if _, err := r.ReadString('\n'); err != nil { // greeting
		log.Fatal(err)
	}
	io.WriteString(conn, "a STARTTLS\r\n")
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "a OK") {
		log.Fatalf("STARTTLS refused: %q %v", line, err)
	}
	// Do not keep r: bytes it buffered after the OK were not protected
	// by TLS and may have been injected.
	tc, err := transport.StartTLS(ctx, conn, "imap.example.com", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer tc.Close()
	r = bufio.NewReader(tc)
	// ... continue the session over tc, starting with CAPABILITY.
}

// Exec runs a local IMAP server process, pre-authenticated, and talks
// to it over its standard input and output.
func ExampleExec() {
	ctx := context.Background()
	conn, err := transport.Exec(ctx, "doveadm", "exec", "imap", "-u", "alice")
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	greeting, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		<-conn.Done()
		log.Fatalf("imap: %v, exit: %v, stderr: %s", err, conn.ExitErr(), conn.Stderr())
	}
	fmt.Print(greeting) // "* PREAUTH ..."
}
