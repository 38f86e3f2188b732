// One broker shared by the tests of this package, started in TestMain: the pattern for a
// suite that wants one burrowd process and a Reset before each test.
package burrowtest

import (
	"fmt"
	"os"
	"testing"
)

var shared *Broker

func TestMain(m *testing.M) {
	b, err := StartMain()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared = b
	code := m.Run()
	if err := b.Stop(); err != nil { // os.Exit skips deferred calls: stop explicitly
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// fresh resets the shared broker for test t and returns it.
func fresh(t *testing.T) *Broker {
	t.Helper()
	if err := shared.Reset(); err != nil {
		t.Fatal(err)
	}
	return shared
}
