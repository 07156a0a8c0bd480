package testserver

import (
	"crypto/tls"
	"crypto/x509"
)

// TLSConfigs generates a fresh CA and a server certificate for ServerName,
// 127.0.0.1 and ::1 in dir/tls, as Start does, without starting a server:
// for scripted servers (internal/hostile) that speak TLS. server holds the
// certificate; client trusts that CA only, with ServerName set and TLS 1.2
// at least.
func TLSConfigs(dir string) (server, client *tls.Config, err error) {
	tm, err := newTLSMaterial(dir)
	if err != nil {
		return nil, nil, err
	}
	cert, err := tls.LoadX509KeyPair(tm.certFile, tm.keyFile)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(tm.caPEM)
	server = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, ServerName: ServerName, MinVersion: tls.VersionTLS12}
	return server, client, nil
}
