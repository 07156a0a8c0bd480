//go:build race

package commands

// raceSlack is what the race detector adds to a message's bytes in
// TestMessageMemory: under -race the allocator gives each small
// pointer-free allocation a 16-byte block of its own (it pads them for
// checkptr instead of packing them), so the 8 bytes of a section's body
// count as 16.
const raceSlack = 8
