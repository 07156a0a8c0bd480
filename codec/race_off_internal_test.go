//go:build !race

package codec

// raceOn: see race_on_internal_test.go.
const raceOn = false
