//go:build race

package codec

// raceOn reports whether the race detector is on: timing tests whose
// inputs take too long under its instrumentation skip themselves then
// (they run in plain go test).
const raceOn = true
