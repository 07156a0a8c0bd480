package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"

	"github.com/emersion/go-sasl"
)

// Mechanism names.
const (
	Plain       = "PLAIN"
	Login       = "LOGIN"
	CRAMMD5     = "CRAM-MD5"
	SCRAMSHA1   = "SCRAM-SHA-1"
	SCRAMSHA256 = "SCRAM-SHA-256"
	XOAuth2     = "XOAUTH2"
	OAuthBearer = "OAUTHBEARER"
	External    = "EXTERNAL"
	Anonymous   = "ANONYMOUS"
)

// SendsCleartext reports whether the mechanism named sends a password or a
// bearer token that an eavesdropper could replay (PLAIN, LOGIN, XOAUTH2,
// OAUTHBEARER). Such mechanisms are refused on connections that are
// neither TLS nor loopback unless Options.AllowInsecurePassword is set.
// CRAM-MD5, SCRAM-*, EXTERNAL and ANONYMOUS do not; a mechanism this
// package does not know is assumed to, to be safe.
func SendsCleartext(mechanism string) bool {
	switch strings.ToUpper(mechanism) {
	case CRAMMD5, SCRAMSHA1, SCRAMSHA256, External, Anonymous:
		return false
	}
	return true
}

// NewPlain returns a PLAIN client (RFC 4616). authzid, when not empty, is
// the identity to act as (a Dovecot master user or a Cyrus admin
// authenticating as username and acting as authzid).
func NewPlain(authzid, username, password string) sasl.Client {
	return &plainClient{Client: sasl.NewPlainClient(authzid, username, password), password: password}
}

// plainClient is go-sasl's PLAIN, knowing its password for redaction.
type plainClient struct {
	sasl.Client
	password string
}

// The secrets of a mechanism are redacted from the server's answer in the
// errors Authenticate returns: a server may echo a password it decoded
// from the base64 payload, which the session (knowing only the payload)
// cannot redact.
func (c *plainClient) secrets() []string   { return []string{c.password} }
func (c *loginClient) secrets() []string   { return []string{c.password} }
func (c *cramMD5Client) secrets() []string { return []string{c.password} }
func (c *oauthClient) secrets() []string   { return []string{c.token} }

// NewExternal returns an EXTERNAL client (RFC 4422 appendix A): the
// credentials are outside SASL, typically a TLS client certificate.
// authzid may be empty (act as the identity of the certificate).
func NewExternal(authzid string) sasl.Client { return sasl.NewExternalClient(authzid) }

// NewAnonymous returns an ANONYMOUS client (RFC 4505) sending trace
// information (an email address or an opaque string).
func NewAnonymous(trace string) sasl.Client { return sasl.NewAnonymousClient(trace) }

// loginClient is the LOGIN mechanism. Unlike go-sasl's, it sends no
// initial response and answers whatever the server asks: "Username:" and
// "Password:" in either order, or, when the prompts say neither, the
// username first and the password second.
type loginClient struct {
	username, password string
	step               int
}

// NewLogin returns a LOGIN client (draft-murchison-sasl-login). It sends
// the password in the clear.
func NewLogin(username, password string) sasl.Client {
	return &loginClient{username: username, password: password}
}

func (c *loginClient) Start() (string, []byte, error) { return Login, nil, nil }

func (c *loginClient) Next(challenge []byte) ([]byte, error) {
	c.step++
	p := strings.ToLower(string(challenge))
	switch {
	case strings.Contains(p, "pass"):
		return []byte(c.password), nil
	case strings.Contains(p, "user") || strings.Contains(p, "name"):
		return []byte(c.username), nil
	case c.step == 1:
		return []byte(c.username), nil
	case c.step == 2:
		return []byte(c.password), nil
	}
	return nil, sasl.ErrUnexpectedServerChallenge
}

// cramMD5Client is CRAM-MD5 (RFC 2195).
type cramMD5Client struct {
	username, password string
	done               bool
}

// NewCRAMMD5 returns a CRAM-MD5 client (RFC 2195, imaplib's
// login_cram_md5). The password is not sent, but the server must store it
// in a form equivalent to plaintext, and an eavesdropper can try to guess
// it offline: prefer SCRAM.
func NewCRAMMD5(username, password string) sasl.Client {
	return &cramMD5Client{username: username, password: password}
}

func (c *cramMD5Client) Start() (string, []byte, error) { return CRAMMD5, nil, nil }

func (c *cramMD5Client) Next(challenge []byte) ([]byte, error) {
	if c.done {
		return nil, sasl.ErrUnexpectedServerChallenge
	}
	c.done = true
	m := hmac.New(md5.New, []byte(c.password))
	m.Write(challenge)
	return []byte(c.username + " " + hex.EncodeToString(m.Sum(nil))), nil
}

// oauthClient is XOAUTH2 or OAUTHBEARER. Its initial response carries the
// token; a challenge is the server's JSON error, answered with the dummy
// response of the mechanism and kept for the error returned.
type oauthClient struct {
	name  string
	ir    []byte
	dummy []byte
	err   *OAuthError
	token string
}

// NewXOAuth2 returns an XOAUTH2 client (Google's and Microsoft's
// mechanism) for username with an OAuth 2.0 access token. The token is
// sent in the clear.
func NewXOAuth2(username, token string) sasl.Client {
	return &oauthClient{
		name:  XOAuth2,
		ir:    []byte("user=" + username + "\x01auth=Bearer " + token + "\x01\x01"),
		dummy: []byte{},
		token: token,
	}
}

// NewOAuthBearer returns an OAUTHBEARER client (RFC 7628). Username is the
// authorization identity (may be empty); host and port are optional
// (empty and 0 leave them out). The token is sent in the clear.
func NewOAuthBearer(username, token, host string, port int) sasl.Client {
	_, ir, _ := sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{
		Username: saslName(username), Token: token, Host: host, Port: port,
	}).Start()
	return &oauthClient{name: OAuthBearer, ir: ir, dummy: []byte{0x01}, token: token}
}

func (c *oauthClient) Start() (string, []byte, error) { return c.name, c.ir, nil }

func (c *oauthClient) Next(challenge []byte) ([]byte, error) {
	if c.err != nil {
		return nil, sasl.ErrUnexpectedServerChallenge
	}
	e := &OAuthError{}
	if json.Unmarshal(challenge, e) != nil {
		*e = OAuthError{}
	}
	e.Mechanism = c.name
	e.Raw = bytes.Clone(challenge)
	c.err = e
	return c.dummy, nil
}

// detail is implemented by mechanisms that learn why the server refused
// them (the OAuth error JSON).
func (c *oauthClient) detail() error {
	if c.err == nil {
		return nil
	}
	return c.err
}

// funcClient adapts a challenge callback to sasl.Client (imaplib's
// authenticate(mechanism, authobject)).
type funcClient struct {
	name string
	f    func(challenge []byte) ([]byte, error)
	// add tells the session of an answer before it is sent (base64, the
	// only form the session sees): it is a credential, which a server may
	// echo decoded. answers keeps them for redactError.
	add     func([]byte)
	answers []string
}

// minAnswerSecret: shorter answers (an empty one, "y") are not counted as
// credentials: redacting them would blank out common text.
const minAnswerSecret = 4

func (c *funcClient) Start() (string, []byte, error) { return c.name, nil, nil }

func (c *funcClient) Next(challenge []byte) ([]byte, error) {
	resp, err := c.f(challenge)
	if err == nil && resp == nil {
		resp = []byte{}
	}
	if err == nil && len(resp) >= minAnswerSecret {
		if c.add != nil {
			c.add(resp)
		}
		c.answers = append(c.answers, string(resp))
	}
	return resp, err
}

// secrets returns the answers sent so far.
func (c *funcClient) secrets() []string { return c.answers }

// saslName escapes "=" and "," as RFC 5801 and RFC 5802 require for names
// in GS2 headers and SCRAM attributes.
func saslName(s string) string {
	if !strings.ContainsAny(s, "=,") {
		return s
	}
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

var errBadMechanism = errors.New("auth: invalid mechanism name")

// validMechanism checks a SASL mechanism name (RFC 4422 section 3.1:
// upper-case letters, digits, '-' and '_', up to 20 characters).
func validMechanism(name string) bool {
	if name == "" || len(name) > 20 {
		return false
	}
	for _, c := range []byte(name) {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
