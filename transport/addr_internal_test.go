package transport

import (
	"crypto/tls"
	"testing"
)

func TestSplitAddr(t *testing.T) {
	tests := []struct {
		addr, host, hostport string
	}{
		{"host", "host", "host:143"},
		{"host:1", "host", "host:1"},
		{"host:", "host", "host:143"},
		{"imap.example.com:993", "imap.example.com", "imap.example.com:993"},
		{"127.0.0.1", "127.0.0.1", "127.0.0.1:143"},
		{"127.0.0.1:10143", "127.0.0.1", "127.0.0.1:10143"},
		{"[::1]", "::1", "[::1]:143"},
		{"[::1]:5", "::1", "[::1]:5"},
		{"::1", "::1", "[::1]:143"},
		{"2001:db8::1", "2001:db8::1", "[2001:db8::1]:143"},
		{"[fe80::1%eth0]:7", "fe80::1%eth0", "[fe80::1%eth0]:7"},
		{"host:imap", "host", "host:imap"},
	}
	for _, tt := range tests {
		host, hostport, err := splitAddr(tt.addr, DefaultPort)
		if err != nil || host != tt.host || hostport != tt.hostport {
			t.Errorf("splitAddr(%q) = %q, %q, %v; want %q, %q, nil", tt.addr, host, hostport, err, tt.host, tt.hostport)
		}
	}
	if _, hp, _ := splitAddr("host", DefaultTLSPort); hp != "host:993" {
		t.Errorf("splitAddr(host, 993) = %q", hp)
	}

	for _, bad := range []string{"", ":143", "[::1", "[::1]x", "[host]:1", "[]:1", "1:2:3:x", "host:1:2x", "[::1]:5]"} {
		if h, hp, err := splitAddr(bad, DefaultPort); err == nil {
			t.Errorf("splitAddr(%q) = %q, %q, nil; want error", bad, h, hp)
		} else if got := err.Error(); len(got) < 11 || got[:11] != "transport: " {
			t.Errorf("splitAddr(%q) error %q lacks the package prefix", bad, got)
		}
	}
}

func TestTLSConfigDefaults(t *testing.T) {
	c, err := tlsConfig(nil, "mail.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if c.ServerName != "mail.example.com" || c.MinVersion != tls.VersionTLS12 || c.InsecureSkipVerify {
		t.Errorf("defaults: ServerName %q MinVersion %#x InsecureSkipVerify %v", c.ServerName, c.MinVersion, c.InsecureSkipVerify)
	}

	orig := &tls.Config{}
	c, err = tlsConfig(orig, "h")
	if err != nil {
		t.Fatal(err)
	}
	if c == orig || orig.ServerName != "" || orig.MinVersion != 0 {
		t.Errorf("caller's config was modified: %+v", orig)
	}

	// Explicit values win.
	c, _ = tlsConfig(&tls.Config{ServerName: "other", MinVersion: tls.VersionTLS13}, "h")
	if c.ServerName != "other" || c.MinVersion != tls.VersionTLS13 {
		t.Errorf("explicit values overridden: %q %#x", c.ServerName, c.MinVersion)
	}
	c, _ = tlsConfig(&tls.Config{MinVersion: tls.VersionTLS10}, "h")
	if c.MinVersion != tls.VersionTLS10 {
		t.Errorf("explicit MinVersion changed to %#x", c.MinVersion)
	}

	// IPv6 zones cannot appear in certificates.
	c, _ = tlsConfig(nil, "fe80::1%eth0")
	if c.ServerName != "fe80::1" {
		t.Errorf("ServerName = %q, want fe80::1", c.ServerName)
	}

	if _, err := tlsConfig(nil, ""); err == nil {
		t.Error("no server name: want error")
	}
	if c, err := tlsConfig(&tls.Config{InsecureSkipVerify: true}, ""); err != nil || c.ServerName != "" {
		t.Errorf("InsecureSkipVerify without name: %v", err)
	}
}
