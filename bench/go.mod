module github.com/imapkit/imapkit/bench

go 1.26.0

replace github.com/imapkit/imapkit => ../

require (
	github.com/emersion/go-imap/v2 v2.0.0-beta.8
	github.com/imapkit/imapkit v0.0.0-00010101000000-000000000000
)

require (
	github.com/emersion/go-message v0.18.2 // indirect
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6 // indirect
	golang.org/x/text v0.43.0 // indirect
)
