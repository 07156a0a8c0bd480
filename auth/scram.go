package auth

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"github.com/emersion/go-sasl"
	"golang.org/x/text/secure/precis"
)

// maxSCRAMIterations bounds the PBKDF2 work a server can ask for.
const maxSCRAMIterations = 1 << 22

// minSCRAMIterations is the fewest PBKDF2 iterations the client accepts
// from a server: RFC 5802 section 5.1 and RFC 7677 say a
// server SHOULD ask for at least 4096 (Dovecot's and Cyrus's default).
// A lower count makes a guess at the password from a recorded exchange
// that much cheaper, and the server chooses it: a man in the middle of a
// connection without TLS (SCRAM is allowed there) would ask for 1, and
// crack the proof offline at one HMAC a guess. Refused, with no way
// round it: a server whose stored keys were made with fewer iterations
// takes PLAIN over TLS.
const minSCRAMIterations = 4096

// scramClient is SCRAM-SHA-1 or SCRAM-SHA-256 (RFC 5802, RFC 7677)
// without channel binding, verifying the server's signature.
type scramClient struct {
	name    string
	newHash func() hash.Hash
	user    string
	pass    string
	authzid string
	nonce   string // set by tests for the RFC vectors; random otherwise

	step        int
	gs2         string
	clientFirst string // client-first-message-bare
	serverSig   []byte
	verified    bool
}

func (c *scramClient) secrets() []string { return []string{c.pass} }

// NewSCRAMSHA256 returns a SCRAM-SHA-256 client (RFC 7677). The password
// is not sent, and the server proves that it knows it: a server whose
// final signature is wrong or missing fails the exchange
// (ErrServerNotVerified). Username and password are prepared with the
// PRECIS OpaqueString profile (RFC 8265, the successor of SASLprep).
// authzid, when not empty, is the identity to act as.
func NewSCRAMSHA256(authzid, username, password string) sasl.Client {
	return &scramClient{name: SCRAMSHA256, newHash: sha256.New, user: username, pass: password, authzid: authzid}
}

// NewSCRAMSHA1 returns a SCRAM-SHA-1 client (RFC 5802); see NewSCRAMSHA256.
func NewSCRAMSHA1(authzid, username, password string) sasl.Client {
	return &scramClient{name: SCRAMSHA1, newHash: sha1.New, user: username, pass: password, authzid: authzid}
}

func (c *scramClient) Start() (string, []byte, error) {
	user, err := precis.OpaqueString.String(c.user)
	if err != nil {
		return c.name, nil, fmt.Errorf("auth: %s: the username cannot be prepared (PRECIS OpaqueString): %w", c.name, err)
	}
	if c.nonce == "" {
		var b [24]byte
		rand.Read(b[:])
		c.nonce = base64.RawStdEncoding.EncodeToString(b[:])
	}
	c.gs2 = "n,,"
	if c.authzid != "" {
		c.gs2 = "n,a=" + saslName(c.authzid) + ","
	}
	c.clientFirst = "n=" + saslName(user) + ",r=" + c.nonce
	c.step = 0
	return c.name, []byte(c.gs2 + c.clientFirst), nil
}

func (c *scramClient) Next(challenge []byte) ([]byte, error) {
	c.step++
	switch c.step {
	case 1:
		return c.clientFinal(challenge)
	case 2:
		v, err := parseServerFinal(challenge)
		if err != nil {
			return nil, fmt.Errorf("auth: %s: %w", c.name, err)
		}
		if !hmac.Equal(v, c.serverSig) {
			return nil, fmt.Errorf("auth: %s: %w", c.name, ErrServerNotVerified)
		}
		c.verified = true
		return []byte{}, nil
	}
	return nil, sasl.ErrUnexpectedServerChallenge
}

// scramPreparable reports whether SCRAM's preparation of the username and
// the password (PRECIS OpaqueString, RFC 7677 and RFC 8265) accepts them
// and leaves them as they are. A server may derive its SCRAM keys from the
// password as stored, not prepared (Dovecot does), so one the preparation
// changes (a no-break space U+00A0 mapped to a space, a decomposed accent
// composed: NFD to NFC) fails there, where a mechanism sending the
// password as it is logs in.
func scramPreparable(user, pass string) bool {
	u, err := precis.OpaqueString.String(user)
	if err != nil || u != user {
		return false
	}
	p, err := precis.OpaqueString.String(pass)
	return err == nil && p == pass
}

func (c *scramClient) clientFinal(serverFirst []byte) ([]byte, error) {
	sf, err := parseServerFirst(serverFirst)
	if err != nil {
		return nil, fmt.Errorf("auth: %s: %w", c.name, err)
	}
	if !strings.HasPrefix(sf.nonce, c.nonce) || len(sf.nonce) == len(c.nonce) {
		return nil, fmt.Errorf("auth: %s: the server's nonce does not extend the client's", c.name)
	}
	pass, err := precis.OpaqueString.String(c.pass)
	if err != nil {
		return nil, fmt.Errorf("auth: %s: the password cannot be prepared (PRECIS OpaqueString): %w", c.name, err)
	}
	size := c.newHash().Size()
	salted, err := pbkdf2.Key(c.newHash, pass, sf.salt, sf.iterations, size)
	if err != nil {
		return nil, fmt.Errorf("auth: %s: %w", c.name, err)
	}
	clientKey := c.hmac(salted, "Client Key")
	h := c.newHash()
	h.Write(clientKey)
	storedKey := h.Sum(nil)
	withoutProof := "c=" + base64.StdEncoding.EncodeToString([]byte(c.gs2)) + ",r=" + sf.nonce
	authMessage := c.clientFirst + "," + string(serverFirst) + "," + withoutProof
	proof := c.hmac(storedKey, authMessage)
	for i := range proof {
		proof[i] ^= clientKey[i]
	}
	c.serverSig = c.hmac(c.hmac(salted, "Server Key"), authMessage)
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

func (c *scramClient) hmac(key []byte, msg string) []byte {
	m := hmac.New(c.newHash, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// complete is called after the server's OK: a SCRAM server that said OK
// without proving itself is not trusted.
func (c *scramClient) complete() error {
	if !c.verified {
		return fmt.Errorf("auth: %s: the server said OK without its signature: %w", c.name, ErrServerNotVerified)
	}
	return nil
}

// serverFirst is a parsed server-first-message.
type serverFirst struct {
	nonce      string
	salt       []byte
	iterations int
}

// parseServerFirst parses "r=NONCE,s=SALT,i=COUNT[,ext...]" (RFC 5802
// section 7). A mandatory extension (m=) is an error.
func parseServerFirst(b []byte) (*serverFirst, error) {
	s := string(b)
	if strings.HasPrefix(s, "m=") {
		return nil, errors.New("the server requires an unsupported SCRAM extension")
	}
	attrs := strings.Split(s, ",")
	if len(attrs) < 3 {
		return nil, errors.New("malformed server-first-message")
	}
	var sf serverFirst
	nonce, ok := strings.CutPrefix(attrs[0], "r=")
	if !ok || nonce == "" || !printable(nonce) {
		return nil, errors.New("malformed server-first-message: no nonce")
	}
	sf.nonce = nonce
	salt, ok := strings.CutPrefix(attrs[1], "s=")
	if !ok || salt == "" {
		return nil, errors.New("malformed server-first-message: no salt")
	}
	var err error
	if sf.salt, err = base64.StdEncoding.DecodeString(salt); err != nil {
		return nil, errors.New("malformed server-first-message: the salt is not base64")
	}
	it, ok := strings.CutPrefix(attrs[2], "i=")
	if !ok {
		return nil, errors.New("malformed server-first-message: no iteration count")
	}
	n, err := strconv.Atoi(it)
	if err != nil || n < 1 || it[0] == '+' || it[0] == '0' {
		return nil, errors.New("malformed server-first-message: bad iteration count")
	}
	if n > maxSCRAMIterations {
		return nil, fmt.Errorf("the server asks for %d iterations, more than %d", n, maxSCRAMIterations)
	}
	if n < minSCRAMIterations {
		return nil, fmt.Errorf("the server asks for %d iterations, fewer than %d (RFC 5802 section 5.1): the proof would be cheap to attack offline", n, minSCRAMIterations)
	}
	sf.iterations = n
	for _, a := range attrs[3:] {
		if len(a) < 2 || a[1] != '=' || !(a[0] >= 'a' && a[0] <= 'z' || a[0] >= 'A' && a[0] <= 'Z') {
			return nil, errors.New("malformed server-first-message: bad extension")
		}
	}
	return &sf, nil
}

// parseServerFinal parses "v=SIGNATURE[,ext...]" or "e=ERROR" (RFC 5802
// section 7) and returns the signature.
func parseServerFinal(b []byte) ([]byte, error) {
	s := string(b)
	if e, ok := strings.CutPrefix(s, "e="); ok {
		if i := strings.IndexByte(e, ','); i >= 0 {
			e = e[:i]
		}
		if !printable(e) {
			e = "(unprintable)"
		}
		return nil, fmt.Errorf("the server reports %q: %w", e, ErrServerNotVerified)
	}
	v, ok := strings.CutPrefix(s, "v=")
	if !ok {
		return nil, errors.New("malformed server-final-message")
	}
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	sig, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(sig) == 0 {
		return nil, errors.New("malformed server-final-message: the signature is not base64")
	}
	return sig, nil
}

// printable reports the RFC 5802 "printable" characters (0x21-0x7E but ',').
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e || s[i] == ',' {
			return false
		}
	}
	return true
}
