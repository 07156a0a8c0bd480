package testserver

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStartLoginSelect(t *testing.T) {
	t.Parallel()
	const seed = 25
	start := time.Now()
	s := StartT(t, &Options{Seed: seed})
	t.Logf("Start with Seed %d took %v (dir %s, plain %s, tls %s)", seed, time.Since(start), s.Dir, s.PlainAddr, s.TLSAddr)

	if s.Kind != Dovecot || s.ServerName != "localhost" || len(s.CAPEM) == 0 {
		t.Errorf("unexpected server fields: kind %q name %q CA %d bytes", s.Kind, s.ServerName, len(s.CAPEM))
	}
	for _, a := range []string{s.PlainAddr, s.TLSAddr} {
		if !strings.HasPrefix(a, "127.0.0.1:") {
			t.Errorf("address %q not on 127.0.0.1", a)
		}
	}

	c, greeting := dialPlain(t, s.PlainAddr)
	if !strings.Contains(greeting, "STARTTLS") {
		t.Errorf("greeting %q lacks STARTTLS", greeting)
	}
	caps := c.capabilities()
	for _, want := range []string{"IMAP4REV1", "STARTTLS", "AUTH=PLAIN", "AUTH=LOGIN", "AUTH=CRAM-MD5", "AUTH=SCRAM-SHA-1", "AUTH=SCRAM-SHA-256", "SASL-IR"} {
		if !caps[want] {
			t.Errorf("pre-login CAPABILITY lacks %s", want)
		}
	}
	if caps["LOGINDISABLED"] {
		t.Error("LOGINDISABLED advertised on plain loopback connection")
	}
	c.login(Alice, Password)
	caps = c.capabilities()
	for _, want := range []string{"COMPRESS=DEFLATE", "METADATA", "QUOTA", "ACL", "IDLE", "MOVE", "UIDPLUS", "CONDSTORE", "QRESYNC", "SPECIAL-USE", "NAMESPACE"} {
		if !caps[want] {
			t.Errorf("post-login CAPABILITY lacks %s", want)
		}
	}
	if n := c.selectMailbox("INBOX"); n != seed {
		t.Errorf("INBOX EXISTS = %d, want %d", n, seed)
	}

	// Message order and INTERNALDATE follow SampleMessages.
	for _, seq := range []int{1, seed} {
		u := c.ok("FETCH %d (INTERNALDATE BODY.PEEK[HEADER.FIELDS (X-IMAPKIT-INDEX MESSAGE-ID)])", seq)
		info := SampleInfo(seq - 1)
		got := strings.Join(u, "\n")
		if !strings.Contains(got, fmt.Sprintf("X-Imapkit-Index: %d", seq-1)) || !strings.Contains(got, info.MessageID) {
			t.Errorf("FETCH %d: got %q, want index %d %s", seq, got, seq-1, info.MessageID)
		}
		if d, err := internalDate(got); err != nil || !d.Equal(info.Date) {
			t.Errorf("FETCH %d: INTERNALDATE %v (%v) in %q, want %v", seq, d, err, got, info.Date)
		}
	}

	// SEARCH finds the deterministic subsets.
	var wantInvoices []string
	for i := 0; i < seed; i++ {
		if strings.Contains(strings.ToLower(SampleInfo(i).Subject), "invoice") {
			wantInvoices = append(wantInvoices, fmt.Sprint(i+1))
		}
	}
	u := c.ok(`SEARCH SUBJECT "invoice"`)
	if got := strings.Join(u, ""); got != "* SEARCH "+strings.Join(wantInvoices, " ") {
		t.Errorf("SEARCH SUBJECT invoice = %q, want %v", got, wantInvoices)
	}
	u = c.ok(`SEARCH BODY "%s"`, SampleInfo(7).Token)
	if got := strings.Join(u, ""); got != "* SEARCH 8" {
		t.Errorf("SEARCH BODY token of message 7 = %q, want * SEARCH 8", got)
	}
	u = c.ok(`SEARCH CHARSET UTF-8 SUBJECT "München"`)
	if got := strings.Join(u, ""); got == "* SEARCH" {
		t.Errorf("SEARCH SUBJECT München found nothing")
	}
	c.ok("LOGOUT")
}

func TestSTARTTLS(t *testing.T) {
	t.Parallel()
	s := StartT(t, nil)
	c, _ := dialPlain(t, s.PlainAddr)
	c.ok("STARTTLS")
	tc := tls.Client(c.conn, s.TLSConfig())
	if err := tc.Handshake(); err != nil {
		t.Fatalf("STARTTLS handshake: %v", err)
	}
	c.conn, c.r, c.w = tc, bufio.NewReader(tc), tc
	if caps := c.capabilities(); caps["STARTTLS"] {
		t.Error("STARTTLS still advertised after STARTTLS")
	}
	c.login(Bob, Password)
	c.ok("LOGOUT")
}

func TestImplicitTLS(t *testing.T) {
	t.Parallel()
	s := StartT(t, nil)
	cfg := s.TLSConfig()
	if cfg.ServerName != "localhost" || cfg.MinVersion != tls.VersionTLS12 || cfg.RootCAs == nil {
		t.Errorf("TLSConfig = %+v", cfg)
	}
	c, greeting := dialTLS(t, s.TLSAddr, cfg)
	if strings.Contains(greeting, "STARTTLS") {
		t.Errorf("greeting on implicit TLS offers STARTTLS: %q", greeting)
	}
	c.login(Alice, Password)
	c.ok("LOGOUT")

	// The certificate is also valid for the IP address.
	ipCfg := s.TLSConfig()
	ipCfg.ServerName = "127.0.0.1"
	dialTLS(t, s.TLSAddr, ipCfg)

	// Without the CA the handshake fails.
	for _, cfg := range []*tls.Config{
		{ServerName: "localhost", MinVersion: tls.VersionTLS12},
		{ServerName: "wrong.example", RootCAs: s.TLSConfig().RootCAs},
	} {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", s.TLSAddr, cfg)
		if err == nil {
			conn.Close()
			t.Errorf("TLS dial with %q and RootCAs=%v succeeded", cfg.ServerName, cfg.RootCAs != nil)
		} else {
			t.Logf("expected failure: %v", err)
		}
	}
}

func TestStreamCommand(t *testing.T) {
	t.Parallel()
	s := StartT(t, &Options{Seed: 3})
	argv := s.StreamCommand(Alice)
	t.Logf("StreamCommand: %q", argv)
	cmd := exec.Command(argv[0], argv[1:]...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	conn := &pipeConn{Reader: stdout, WriteCloser: stdin}
	c := &client{t: t, r: bufio.NewReader(conn), w: conn}
	greeting := c.readLine()
	if !strings.HasPrefix(greeting, "* PREAUTH") {
		t.Fatalf("greeting %q, want * PREAUTH", greeting)
	}
	if !strings.Contains(greeting, "alice") {
		t.Errorf("greeting %q does not name alice", greeting)
	}
	caps := c.capabilities()
	for _, want := range []string{"METADATA", "QUOTA", "ACL", "COMPRESS=DEFLATE"} {
		if !caps[want] {
			t.Errorf("StreamCommand CAPABILITY lacks %s", want)
		}
	}
	if n := c.selectMailbox("INBOX"); n != 3 {
		t.Errorf("EXISTS = %d, want 3", n)
	}
	c.ok("LOGOUT")
	stdin.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("stream command: %v; stderr: %s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("stream command did not exit after LOGOUT")
	}
	t.Logf("stderr: %s", strings.TrimSpace(stderr.String()))
}

type pipeConn struct {
	io.Reader
	io.WriteCloser
}

func TestMasterUser(t *testing.T) {
	t.Parallel()
	s := StartT(t, &Options{Seed: 4})

	c, _ := dialPlain(t, s.PlainAddr)
	c.login(Alice+"*"+MasterUser, MasterPassword)
	if n := c.selectMailbox("INBOX"); n != 4 {
		t.Errorf("master login as alice: EXISTS = %d, want 4", n)
	}
	u := c.ok("MYRIGHTS INBOX")
	if got := strings.Join(u, ""); !strings.Contains(got, "lrwstipekxacd") {
		t.Errorf("MYRIGHTS INBOX as master = %q, want full rights", got)
	}
	c.ok("LOGOUT")

	// SASL PLAIN with authorization identity alice.
	c, _ = dialPlain(t, s.PlainAddr)
	ir := base64.StdEncoding.EncodeToString([]byte(Alice + "\x00" + MasterUser + "\x00" + MasterPassword))
	c.ok("AUTHENTICATE PLAIN %s", ir)
	if n := c.selectMailbox("INBOX"); n != 4 {
		t.Errorf("SASL PLAIN authzid: EXISTS = %d, want 4", n)
	}

	// The master user cannot log in as itself, nor with a wrong password.
	c, _ = dialPlain(t, s.PlainAddr)
	if _, st := c.cmd("LOGIN %s %s", MasterUser, MasterPassword); !strings.HasPrefix(st, "NO") {
		t.Errorf("LOGIN master: %s, want NO", st)
	}
	if _, st := c.cmd("LOGIN %s %s", quote(Alice+"*"+MasterUser), "wrong"); !strings.HasPrefix(st, "NO") {
		t.Errorf("LOGIN alice*master wrong: %s, want NO", st)
	}
}

func TestAuthMechanisms(t *testing.T) {
	t.Parallel()
	s := StartT(t, nil)
	for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"} {
		t.Run(mech, func(t *testing.T) {
			c, _ := dialPlain(t, s.PlainAddr)
			st := authenticate(t, c, mech, Bob, Password)
			if !strings.HasPrefix(st, "OK") {
				t.Fatalf("AUTHENTICATE %s: %s", mech, st)
			}
			c.selectMailbox("INBOX")
			c.ok("LOGOUT")
		})
	}
	c, _ := dialPlain(t, s.PlainAddr)
	if st := authenticate(t, c, "CRAM-MD5", Bob, "wrong"); !strings.HasPrefix(st, "NO") {
		t.Errorf("CRAM-MD5 with wrong password: %s", st)
	}
}

// authenticate runs an AUTHENTICATE exchange and returns the tagged status.
func authenticate(t *testing.T, c *client, mech, user, pass string) string {
	t.Helper()
	c.tag++
	tag := fmt.Sprintf("a%d", c.tag)
	c.send(tag + " AUTHENTICATE " + mech + "\r\n")
	b64 := base64.StdEncoding
	challenge := func() []byte {
		line := c.readLine()
		if strings.HasPrefix(line, tag+" ") {
			t.Fatalf("AUTHENTICATE %s ended early: %s", mech, line)
		}
		if !strings.HasPrefix(line, "+") {
			t.Fatalf("AUTHENTICATE %s: unexpected %q", mech, line)
		}
		d, err := b64.DecodeString(strings.TrimSpace(strings.TrimPrefix(line, "+")))
		if err != nil {
			t.Fatalf("challenge %q: %v", line, err)
		}
		return d
	}
	respond := func(b []byte) { c.send(b64.EncodeToString(b) + "\r\n") }
	switch mech {
	case "PLAIN":
		challenge()
		respond([]byte("\x00" + user + "\x00" + pass))
	case "LOGIN":
		challenge()
		respond([]byte(user))
		challenge()
		respond([]byte(pass))
	case "CRAM-MD5":
		ch := challenge()
		m := hmac.New(md5.New, []byte(pass))
		m.Write(ch)
		respond([]byte(user + " " + hex.EncodeToString(m.Sum(nil))))
	case "SCRAM-SHA-1", "SCRAM-SHA-256":
		h := sha256.New
		if mech == "SCRAM-SHA-1" {
			h = sha1.New
		}
		challenge() // empty initial challenge
		cnonce := "rOprNGfwEbeRWgbNEkqO"
		first := "n=" + user + ",r=" + cnonce
		respond([]byte("n,," + first))
		serverFirst := string(challenge())
		var nonce, salt string
		var iter int
		for _, f := range strings.Split(serverFirst, ",") {
			switch {
			case strings.HasPrefix(f, "r="):
				nonce = f[2:]
			case strings.HasPrefix(f, "s="):
				salt = f[2:]
			case strings.HasPrefix(f, "i="):
				fmt.Sscan(f[2:], &iter)
			}
		}
		saltBytes, err := b64.DecodeString(salt)
		if err != nil || !strings.HasPrefix(nonce, cnonce) || iter == 0 {
			t.Fatalf("bad server-first %q", serverFirst)
		}
		salted, err := pbkdf2.Key(h, pass, saltBytes, iter, h().Size())
		if err != nil {
			t.Fatal(err)
		}
		mac := func(key []byte, s string) []byte {
			m := hmac.New(h, key)
			m.Write([]byte(s))
			return m.Sum(nil)
		}
		clientKey := mac(salted, "Client Key")
		stored := h()
		stored.Write(clientKey)
		finalNoProof := "c=" + b64.EncodeToString([]byte("n,,")) + ",r=" + nonce
		authMsg := first + "," + serverFirst + "," + finalNoProof
		sig := mac(stored.Sum(nil), authMsg)
		proof := make([]byte, len(clientKey))
		for i := range proof {
			proof[i] = clientKey[i] ^ sig[i]
		}
		respond([]byte(finalNoProof + ",p=" + b64.EncodeToString(proof)))
		line := c.readLine()
		if strings.HasPrefix(line, tag+" ") {
			return strings.TrimPrefix(line, tag+" ")
		}
		d, _ := b64.DecodeString(strings.TrimSpace(strings.TrimPrefix(line, "+")))
		wantV := "v=" + b64.EncodeToString(mac(mac(salted, "Server Key"), authMsg))
		if string(d) != wantV {
			t.Errorf("server-final %q, want %q", d, wantV)
		}
		c.send("\r\n")
	default:
		t.Fatalf("unknown mechanism %s", mech)
	}
	_, st := c.collect(tag)
	return st
}

func TestQuota(t *testing.T) {
	t.Parallel()
	s := StartT(t, nil)
	c, _ := dialPlain(t, s.PlainAddr)
	c.login(TinyUser, Password)
	u := c.ok("GETQUOTAROOT INBOX")
	got := strings.Join(u, "\n")
	if !strings.Contains(got, fmt.Sprintf("STORAGE 0 %d", TinyQuotaKiB)) {
		t.Errorf("GETQUOTAROOT INBOX = %q, want STORAGE 0 %d", got, TinyQuotaKiB)
	}
	// Filling the quota gives [OVERQUOTA].
	msg := SampleMessage(4) // ~100 KB
	c.send(fmt.Sprintf("q1 APPEND INBOX {%d+}\r\n", len(msg)))
	c.send(string(msg) + "\r\n")
	_, st := c.collect("q1")
	if !strings.HasPrefix(st, "NO [OVERQUOTA]") {
		t.Errorf("APPEND over quota: %s, want NO [OVERQUOTA]", st)
	}
	// Alice has no limit.
	c2, _ := dialPlain(t, s.PlainAddr)
	c2.login(Alice, Password)
	c2.send(fmt.Sprintf("q1 APPEND INBOX {%d+}\r\n", len(msg)))
	c2.send(string(msg) + "\r\n")
	if _, st := c2.collect("q1"); !strings.HasPrefix(st, "OK") {
		t.Errorf("APPEND for alice: %s", st)
	}
}

func TestMetadata(t *testing.T) {
	t.Parallel()
	s := StartT(t, nil)
	c, _ := dialPlain(t, s.PlainAddr)
	c.login(Alice, Password)
	c.ok(`SETMETADATA INBOX (/private/comment "hello metadata")`)
	c.ok(`SETMETADATA "" (/private/vendor/imapkit/test "server value")`)
	u := c.ok(`GETMETADATA INBOX /private/comment`)
	if got := strings.Join(u, ""); !strings.Contains(got, "hello metadata") {
		t.Errorf("GETMETADATA INBOX = %q", got)
	}
	u = c.ok(`GETMETADATA "" /private/vendor/imapkit/test`)
	if got := strings.Join(u, ""); !strings.Contains(got, "server value") {
		t.Errorf("GETMETADATA server = %q", got)
	}
}

func TestCompressDeflate(t *testing.T) {
	t.Parallel()
	s := StartT(t, &Options{Seed: 12})
	c, _ := dialPlain(t, s.PlainAddr)
	c.login(Alice, Password)
	if !c.capabilities()["COMPRESS=DEFLATE"] {
		t.Fatal("no COMPRESS=DEFLATE after login")
	}
	c.startCompress()
	if n := c.selectMailbox("INBOX"); n != 12 {
		t.Errorf("EXISTS over DEFLATE = %d, want 12", n)
	}
	u := c.ok("FETCH 11 BODY.PEEK[]")
	if got := strings.Join(u, ""); !strings.Contains(got, SampleInfo(10).Token) {
		t.Errorf("FETCH over DEFLATE lacks the token")
	}
	c.ok("LOGOUT")
}

func TestACLSharing(t *testing.T) {
	t.Parallel()
	s := StartT(t, nil)
	if err := s.SeedMailbox(Alice, "Shared/Team", SampleMessages(3)); err != nil {
		t.Fatal(err)
	}
	a, _ := dialPlain(t, s.PlainAddr)
	a.login(Alice, Password)
	a.ok(`SETACL "Shared/Team" bob lr`)
	u := a.ok(`GETACL "Shared/Team"`)
	if got := strings.Join(u, ""); !strings.Contains(got, "bob lr") {
		t.Errorf("GETACL = %q", got)
	}
	b, _ := dialPlain(t, s.PlainAddr)
	b.login(Bob, Password)
	u = b.ok(`LIST "" "shared/*"`)
	if got := strings.Join(u, "\n"); !strings.Contains(got, "shared/alice/Shared/Team") {
		t.Errorf("bob's LIST shared/* = %q", got)
	}
	if n := b.selectMailbox("shared/alice/Shared/Team"); n != 3 {
		t.Errorf("bob sees %d messages in alice's shared mailbox, want 3", n)
	}
}

func TestSeedMailbox(t *testing.T) {
	t.Parallel()
	s := StartT(t, nil)
	if err := s.SeedMailbox(Bob, "Archive/2024", SampleMessages(5)); err != nil {
		t.Fatal(err)
	}
	// A second call appends after the first batch.
	if err := s.SeedMailbox(Bob, "Archive/2024", [][]byte{SampleMessage(42)}); err != nil {
		t.Fatal(err)
	}
	// Non-ASCII mailbox names work too.
	if err := s.SeedMailbox(Bob, "Ärger", SampleMessages(2)); err != nil {
		t.Fatal(err)
	}
	c, _ := dialPlain(t, s.PlainAddr)
	c.login(Bob, Password)
	u := c.ok(`LIST "" "*"`)
	list := strings.Join(u, "\n")
	for _, want := range []string{`"/" Archive/2024`, `"/" &AMQ-rger`, `\Sent`, `\Trash`, `\Drafts`, `\Junk`} {
		if !strings.Contains(list, want) {
			t.Errorf("LIST lacks %s:\n%s", want, list)
		}
	}
	u = c.ok(`STATUS "Archive/2024" (MESSAGES UIDNEXT)`)
	if got := strings.Join(u, ""); !strings.Contains(got, "MESSAGES 6") || !strings.Contains(got, "UIDNEXT 7") {
		t.Errorf("STATUS = %q", got)
	}
	c.selectMailbox("Archive/2024")
	u = c.ok("UID FETCH 6 BODY.PEEK[HEADER.FIELDS (X-IMAPKIT-INDEX)]")
	if got := strings.Join(u, ""); !strings.Contains(got, "X-Imapkit-Index: 42") {
		t.Errorf("UID 6 = %q, want message 42", got)
	}
	if n := c.selectMailbox("&AMQ-rger"); n != 2 {
		t.Errorf("Ärger has %d messages", n)
	}
	if err := s.SeedMailbox("nobody", "INBOX", nil); err == nil {
		t.Error("SeedMailbox for unknown user succeeded")
	}
}

func TestSeedMailbox20000(t *testing.T) {
	const n = 20000
	s := StartT(t, nil)
	genStart := time.Now()
	msgs := SampleMessages(n)
	var total int
	for _, m := range msgs {
		total += len(m)
	}
	t.Logf("SampleMessages(%d): %v, %.1f MB", n, time.Since(genStart), float64(total)/1e6)
	start := time.Now()
	if err := s.SeedMailbox(Alice, "INBOX", msgs); err != nil {
		t.Fatal(err)
	}
	t.Logf("SeedMailbox of %d messages took %v", n, time.Since(start))

	start = time.Now()
	c, _ := dialPlain(t, s.PlainAddr)
	c.login(Alice, Password)
	if got := c.selectMailbox("INBOX"); got != n {
		t.Fatalf("EXISTS = %d, want %d", got, n)
	}
	t.Logf("first SELECT took %v", time.Since(start))
	for _, seq := range []int{1, 5000, n} {
		u := c.ok("FETCH %d BODY.PEEK[HEADER.FIELDS (X-IMAPKIT-INDEX)]", seq)
		if got := strings.Join(u, ""); !strings.Contains(got, fmt.Sprintf("X-Imapkit-Index: %d", seq-1)) {
			t.Errorf("message %d: %q", seq, got)
		}
	}
}

func TestStopLeavesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	start := time.Now()
	s, err := Start(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Start took %v", time.Since(start))
	d := s.impl.(*dovecot)
	pgid, markers := d.proc.pgid, d.markers()
	if pids, err := processesAlive(pgid, markers); err != nil {
		t.Fatal(err)
	} else if len(pids) < 3 {
		t.Errorf("only %d server processes running before Stop", len(pids))
	}

	// An open IMAP session and a running stream command must not keep
	// the server alive.
	c, _ := dialPlain(t, s.PlainAddr)
	c.login(Alice, Password)
	c.selectMailbox("INBOX")
	argv := s.StreamCommand(Bob)
	stream := exec.Command(argv[0], argv[1:]...)
	stdin, _ := stream.StdinPipe()
	stdout, _ := stream.StdoutPipe()
	if err := stream.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || !strings.HasPrefix(line, "* PREAUTH") {
		t.Fatalf("stream greeting %q, %v", line, err)
	}
	streamDone := make(chan struct{})
	go func() { stream.Wait(); close(streamDone) }()

	start = time.Now()
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("Stop took %v", time.Since(start))
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if pids, _ := processesAlive(pgid, markers); len(pids) > 0 {
		t.Errorf("processes survive Stop: %s", describeProcesses(pids))
	}
	if out, err := exec.Command("pgrep", "-af", dir).CombinedOutput(); err == nil {
		t.Errorf("pgrep -f %s finds:\n%s", dir, out)
	}
	select {
	case <-streamDone:
	case <-time.After(5 * time.Second):
		t.Error("stream command still running after Stop")
	}
	if conn, err := net.DialTimeout("tcp", s.PlainAddr, time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after Stop", s.PlainAddr)
	}
	if err := s.SeedMailbox(Alice, "INBOX", nil); err == nil {
		t.Error("SeedMailbox after Stop succeeded")
	}
	// Nothing outside dir is left behind either.
	if d.extraBase != "" {
		if _, err := os.Stat(d.extraBase); err == nil {
			t.Errorf("%s not removed", d.extraBase)
		}
	}
}

// TestLongDirName makes sure that a state directory too long for Unix
// socket paths still works (base_dir moves to a short directory).
func TestLongDirName(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), strings.Repeat("a-long-directory-name-", 4))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := Start(dir, &Options{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	d := s.impl.(*dovecot)
	if d.extraBase == "" {
		t.Errorf("base_dir %s not moved for dir of length %d", d.baseDir, len(dir))
	}
	c, _ := dialPlain(t, s.PlainAddr)
	c.login(Alice, Password)
	if n := c.selectMailbox("INBOX"); n != 2 {
		t.Errorf("EXISTS = %d", n)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.extraBase); err == nil {
		t.Errorf("%s not removed by Stop", d.extraBase)
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(dir, nil); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("Start in non-empty dir: %v", err)
	}
	if _, err := Start(t.TempDir(), &Options{Kind: "cyrus"}); err == nil || !strings.Contains(err.Error(), "unknown server kind") {
		t.Errorf("Start with unknown kind: %v", err)
	}
	if _, err := Start(filepath.Join(dir, "missing"), nil); err == nil {
		t.Error("Start in missing dir succeeded")
	}
}

// internalDate extracts INTERNALDATE "..." from a FETCH response.
func internalDate(resp string) (time.Time, error) {
	_, rest, ok := strings.Cut(resp, `INTERNALDATE "`)
	if !ok {
		return time.Time{}, fmt.Errorf("no INTERNALDATE")
	}
	v, _, _ := strings.Cut(rest, `"`)
	return time.Parse("_2-Jan-2006 15:04:05 -0700", v)
}

func TestMissingDovecot(t *testing.T) {
	t.Parallel()
	_, err := findDovecotIn(false, []string{t.TempDir()}, dovecotBinDirs, dovecotLibexecDirs)
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y dovecot-imapd") {
		t.Errorf("error %v does not say how to install Dovecot", err)
	}
	t.Logf("%v", err)
}
