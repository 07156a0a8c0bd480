package main

import (
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// TestStateUnlockWhileForking: a state lock unlock released is free at
// once, even while other goroutines start programs. A child forked just
// before the lock's file closed held a copy of it until its exec, and so
// the lock: the next run of the same job in the process (the tests run
// copy twice in a row, beside parallel tests that start servers) found it
// busy, "another imapkit is using it".
func TestStateUnlockWhileForking(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				exec.Command("/bin/true").Run()
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	for i := 0; i < 300; i++ {
		l, err := lockState(path)
		if err != nil {
			t.Fatalf("lock %d: %v", i, err)
		}
		l.unlock()
	}
}
