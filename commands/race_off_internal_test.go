//go:build !race

package commands

// raceSlack: see race_on_internal_test.go.
const raceSlack = 0
