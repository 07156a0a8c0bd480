//go:build race

package main

// raceBuild: this test binary was built with -race, and so is the imapkit
// binary the tests run (imapkitBinary): it then reuses the packages the
// race build compiled instead of compiling the module and the standard
// library a second time without -race (114 s of CPU from an empty build
// cache, in the middle of make test).
const raceBuild = true
