//go:build race

package archtest

// raceBuild: this test binary was built with -race; go list -export asks
// for the same build, found in the build cache (docexamples_test.go).
const raceBuild = true
