module github.com/imapkit/imapkit

go 1.26.0

require (
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6
	github.com/google/go-cmp v0.7.0
	golang.org/x/term v0.37.0
	golang.org/x/text v0.43.0
)

require golang.org/x/sys v0.38.0

require github.com/chzyer/readline v1.5.1
