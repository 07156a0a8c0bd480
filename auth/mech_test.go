package auth

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
)

type step struct {
	challenge string
	response  string
	err       bool // Next must fail
}

// TestMechanisms checks each mechanism's initial response and its answer
// to each challenge, as net/smtp's TestAuth does, with the RFCs' examples.
func TestMechanisms(t *testing.T) {
	scram1 := NewSCRAMSHA1("", "user", "pencil").(*scramClient)
	scram1.nonce = "fyko+d2lbbFgONRv9qkxdawL"
	scram256 := NewSCRAMSHA256("", "user", "pencil").(*scramClient)
	scram256.nonce = "rOprNGfwEbeRWgbNEkqO"
	scramBadSig := NewSCRAMSHA256("", "user", "pencil").(*scramClient)
	scramBadSig.nonce = "rOprNGfwEbeRWgbNEkqO"
	scramAuthz := NewSCRAMSHA1("admin=1,x", "user", "pencil").(*scramClient)
	scramAuthz.nonce = "abc"
	tests := []struct {
		name  string
		m     sasl.Client
		mech  string
		ir    string
		irNil bool
		steps []step
	}{
		{"PLAIN", NewPlain("", "alice", "pass"), "PLAIN", "\x00alice\x00pass", false,
			[]step{{"", "", true}}},
		{"PLAIN authzid", NewPlain("alice", "master", "masterpass"), "PLAIN", "alice\x00master\x00masterpass", false, nil},
		{"LOGIN Username first", NewLogin("alice", "pass"), "LOGIN", "", true,
			[]step{{"Username:", "alice", false}, {"Password:", "pass", false}}},
		{"LOGIN Password only", NewLogin("alice", "pass"), "LOGIN", "", true,
			[]step{{"Password:", "pass", false}}},
		{"LOGIN lower-case prompts", NewLogin("alice", "pass"), "LOGIN", "", true,
			[]step{{"User Name", "alice", false}, {"password", "pass", false}}},
		{"LOGIN unknown prompts", NewLogin("alice", "pass"), "LOGIN", "", true,
			[]step{{"", "alice", false}, {"", "pass", false}, {"", "", true}}},
		// RFC 2195 section 2.
		{"CRAM-MD5", NewCRAMMD5("tim", "tanstaaftanstaaf"), "CRAM-MD5", "", true,
			[]step{{"<1896.697170952@postoffice.reston.mci.net>", "tim b913a602c7eda7a495b4e6e7334d3890", false}, {"x", "", true}}},
		// RFC 5802 section 5.
		{"SCRAM-SHA-1 RFC 5802", scram1, "SCRAM-SHA-1", "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", false,
			[]step{
				{"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
					"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", false},
				{"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=", "", false},
				{"", "", true},
			}},
		// RFC 7677 section 3.
		{"SCRAM-SHA-256 RFC 7677", scram256, "SCRAM-SHA-256", "n,,n=user,r=rOprNGfwEbeRWgbNEkqO", false,
			[]step{
				{"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
					"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", false},
				{"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", "", false},
			}},
		{"SCRAM-SHA-256 wrong server signature", scramBadSig, "SCRAM-SHA-256", "n,,n=user,r=rOprNGfwEbeRWgbNEkqO", false,
			[]step{
				{"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
					"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", false},
				{"v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", "", true},
			}},
		{"SCRAM authzid escaped", scramAuthz, "SCRAM-SHA-1", "n,a=admin=3D1=2Cx,n=user,r=abc", false,
			[]step{{"r=abcdef,s=QSXCR+Q6sek8bf92,i=4096", "", false}}}, // response checked below: c= carries the header
		{"SCRAM nonce not extended", NewSCRAMSHA256("", "user", "pencil"), "SCRAM-SHA-256", "", false,
			[]step{{"r=other,s=QSXCR+Q6sek8bf92,i=4096", "", true}}},
		// Google's XOAUTH2 example.
		{"XOAUTH2", NewXOAuth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"), "XOAUTH2",
			"user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01", false,
			[]step{{`{"status":"401","schemes":"bearer mac","scope":"https://mail.google.com/"}`, "", false}, {"", "", true}}},
		// RFC 7628 section 4.1 and 4.3.
		{"OAUTHBEARER", NewOAuthBearer("user@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", "server.example.com", 143), "OAUTHBEARER",
			"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01", false,
			[]step{{`{"status":"invalid_token","scope":"example_scope","openid-configuration":"https://example.com/.well-known/openid-configuration"}`, "\x01", false}}},
		{"EXTERNAL", NewExternal(""), "EXTERNAL", "", false, []step{{"", "", true}}},
		{"EXTERNAL authzid", NewExternal("bob"), "EXTERNAL", "bob", false, nil},
		{"ANONYMOUS", NewAnonymous("sirhc"), "ANONYMOUS", "sirhc", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mech, ir, err := tt.m.Start()
			if err != nil {
				t.Fatal(err)
			}
			if mech != tt.mech {
				t.Errorf("mechanism %q; want %q", mech, tt.mech)
			}
			if (ir == nil) != tt.irNil || (!tt.irNil && tt.ir != "" && string(ir) != tt.ir) || (tt.ir == "" && len(ir) != 0) && tt.name != "SCRAM nonce not extended" {
				t.Errorf("initial response %q (nil %v); want %q (nil %v)", ir, ir == nil, tt.ir, tt.irNil)
			}
			for i, s := range tt.steps {
				resp, err := tt.m.Next([]byte(s.challenge))
				if s.err {
					if err == nil {
						t.Errorf("step %d: challenge %q: response %q; want an error", i, s.challenge, resp)
					}
					return
				}
				if err != nil {
					t.Fatalf("step %d: challenge %q: %v", i, s.challenge, err)
				}
				if s.response != "" && string(resp) != s.response {
					t.Errorf("step %d: response %q; want %q", i, resp, s.response)
				}
				if s.response == "" && tt.name != "SCRAM authzid escaped" && len(resp) != 0 {
					t.Errorf("step %d: response %q; want empty", i, resp)
				}
				if tt.name == "SCRAM authzid escaped" {
					want := "c=" + base64.StdEncoding.EncodeToString([]byte("n,a=admin=3D1=2Cx,")) + ",r=abcdef,p="
					if !bytes.HasPrefix(resp, []byte(want)) {
						t.Errorf("client-final %q; want prefix %q", resp, want)
					}
				}
			}
		})
	}
}

func TestSCRAMCompleteNeedsServerSignature(t *testing.T) {
	c := NewSCRAMSHA256("", "user", "pencil").(*scramClient)
	c.nonce = "rOprNGfwEbeRWgbNEkqO"
	c.Start()
	if _, err := c.Next([]byte("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")); err != nil {
		t.Fatal(err)
	}
	if err := c.complete(); !errors.Is(err, ErrServerNotVerified) {
		t.Fatalf("OK without server-final: complete() = %v; want ErrServerNotVerified", err)
	}
	if _, err := c.Next([]byte("e=invalid-proof")); !errors.Is(err, ErrServerNotVerified) {
		t.Fatalf("e=invalid-proof: %v", err)
	}
}

func TestSCRAMSASLprep(t *testing.T) {
	// U+00A0 NO-BREAK SPACE maps to SPACE (RFC 8265 OpaqueString), so both
	// passwords give the same proof.
	proof := func(pass string) string {
		c := NewSCRAMSHA256("", "user", pass).(*scramClient)
		c.nonce = "n"
		c.Start()
		r, err := c.Next([]byte("r=nn,s=QSXCR+Q6sek8bf92,i=4096"))
		if err != nil {
			t.Fatal(err)
		}
		return string(r)
	}
	if a, b := proof("pen cil"), proof("pen\u00a0cil"); a != b {
		t.Errorf("NBSP not mapped: %q != %q", a, b)
	}
	if a, b := proof("pencil"), proof("pen cil"); a == b {
		t.Errorf("different passwords, same proof")
	}
	c := NewSCRAMSHA256("", "user", "pen\x07cil")
	c.Start()
	if _, err := c.Next([]byte("r=" + c.(*scramClient).nonce + "x,s=QSXCR+Q6sek8bf92,i=4096")); err == nil {
		t.Error("a control character in the password was accepted")
	}
}

func TestSCRAMIterationLimit(t *testing.T) {
	if _, err := parseServerFirst([]byte("r=a,s=QSXCR+Q6sek8bf92,i=99999999")); err == nil {
		t.Fatal("99999999 iterations accepted")
	}
	if _, err := parseServerFirst([]byte("m=x,r=a,s=QSXCR+Q6sek8bf92,i=4096")); err == nil {
		t.Fatal("mandatory extension accepted")
	}
	// RFC 5802 section 5.1, RFC 7677: at least 4096. A server
	// (a man in the middle off TLS) asking for fewer would make the
	// client's proof cheap to attack offline.
	for _, n := range []string{"1", "4095"} {
		if _, err := parseServerFirst([]byte("r=a,s=QSXCR+Q6sek8bf92,i=" + n)); err == nil || !strings.Contains(err.Error(), "fewer than 4096") {
			t.Errorf("%s iterations: %v; want refused (fewer than 4096)", n, err)
		}
	}
	if _, err := parseServerFirst([]byte("r=a,s=QSXCR+Q6sek8bf92,i=4096")); err != nil {
		t.Errorf("4096 iterations: %v", err)
	}
}

func TestOAuthDetail(t *testing.T) {
	m := NewOAuthBearer("", "tok", "", 0)
	m.Next([]byte(`{"status":"invalid_token","scope":"s"}`))
	var oe *OAuthError
	if !errors.As(m.(*oauthClient).detail(), &oe) || oe.Status != "invalid_token" || oe.Scope != "s" || oe.Mechanism != "OAUTHBEARER" {
		t.Fatalf("detail %+v", oe)
	}
	m = NewXOAuth2("u", "tok")
	m.Next([]byte(`not json`))
	if !errors.As(m.(*oauthClient).detail(), &oe) || string(oe.Raw) != "not json" {
		t.Fatalf("detail of a non-JSON challenge %+v", oe)
	}
}

func TestSendsCleartext(t *testing.T) {
	for name, want := range map[string]bool{"PLAIN": true, "login": true, "XOAUTH2": true, "OAUTHBEARER": true, "X-UNKNOWN": true,
		"CRAM-MD5": false, "SCRAM-SHA-1": false, "scram-sha-256": false, "EXTERNAL": false, "ANONYMOUS": false} {
		if got := SendsCleartext(name); got != want {
			t.Errorf("SendsCleartext(%q) = %v; want %v", name, got, want)
		}
	}
}

func TestChoose(t *testing.T) {
	all := []string{"IMAP4rev1", "AUTH=PLAIN", "AUTH=LOGIN", "AUTH=CRAM-MD5", "AUTH=SCRAM-SHA-1", "auth=scram-sha-256", "AUTH=XOAUTH2", "AUTH=OAUTHBEARER", "AUTH=EXTERNAL"}
	pw := &Credentials{Username: "u", Password: "p"}
	tests := []struct {
		name      string
		caps      []string
		cred      *Credentials
		cleartext bool
		want      string
		err       error
	}{
		{"strongest password mechanism", all, pw, true, "SCRAM-SHA-256", nil},
		{"SCRAM-SHA-1 next", []string{"AUTH=PLAIN", "AUTH=CRAM-MD5", "AUTH=SCRAM-SHA-1"}, pw, true, "SCRAM-SHA-1", nil},
		{"CRAM-MD5 over PLAIN", []string{"AUTH=PLAIN", "AUTH=CRAM-MD5"}, pw, false, "CRAM-MD5", nil},
		{"PLAIN when allowed", []string{"AUTH=LOGIN", "AUTH=PLAIN"}, pw, true, "PLAIN", nil},
		{"LOGIN last", []string{"AUTH=LOGIN"}, pw, true, "LOGIN", nil},
		{"cleartext only, not allowed", []string{"AUTH=PLAIN", "AUTH=LOGIN"}, pw, false, "", ErrInsecure},
		{"nothing offered", []string{"IMAP4rev1"}, pw, true, "", ErrNoMechanism},
		{"authzid rules out SCRAM and CRAM-MD5", []string{"AUTH=SCRAM-SHA-256", "AUTH=CRAM-MD5", "AUTH=PLAIN"}, &Credentials{Username: "m", Password: "p", AuthorizationID: "a"}, true, "PLAIN", nil},
		{"token", all, &Credentials{Username: "u", Token: "t"}, true, "OAUTHBEARER", nil},
		{"token, XOAUTH2 only", []string{"AUTH=XOAUTH2", "AUTH=PLAIN"}, &Credentials{Username: "u", Token: "t"}, true, "XOAUTH2", nil},
		{"token in the clear refused", all, &Credentials{Username: "u", Token: "t"}, false, "", ErrInsecure},
		{"external", all, &Credentials{External: true, Username: "u", Password: "p"}, false, "EXTERNAL", nil},
		{"no credentials", all, &Credentials{}, true, "", ErrNoMechanism},
	}
	for _, tt := range tests {
		name, m, err := Choose(tt.caps, tt.cred, tt.cleartext)
		if !errors.Is(err, tt.err) || name != tt.want {
			t.Errorf("%s: Choose = %q, %v; want %q, %v", tt.name, name, err, tt.want, tt.err)
			continue
		}
		if err == nil {
			if got, _, _ := m.Start(); got != tt.want {
				t.Errorf("%s: the client is for %q; want %q", tt.name, got, tt.want)
			}
		}
	}
}

type fakeAddr struct{ network, s string }

func (a fakeAddr) Network() string { return a.network }
func (a fakeAddr) String() string  { return a.s }

func TestIsLocal(t *testing.T) {
	tests := []struct {
		a    net.Addr
		want bool
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 143}, true},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 143}, true},
		{&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 143}, false},
		{&net.UnixAddr{Name: "/run/imap", Net: "unix"}, true},
		{fakeAddr{"pipe", "server"}, true},
		{fakeAddr{"tcp", "127.0.0.2:143"}, true},
		{fakeAddr{"tcp", "198.51.100.7:143"}, false},
		{fakeAddr{"tcp", "localhost:143"}, false}, // names are not trusted
		{fakeAddr{"socks", "127.0.0.1:143"}, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := isLocal(tt.a); got != tt.want {
			t.Errorf("isLocal(%v) = %v; want %v", tt.a, got, tt.want)
		}
	}
}
