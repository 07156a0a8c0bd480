//go:build !race

package archtest

// raceBuild: see race_on_test.go.
const raceBuild = false
