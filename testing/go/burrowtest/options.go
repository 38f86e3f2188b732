// Options of Start and StartMain.
package burrowtest

import (
	"os"
	"time"
)

// Option changes how burrowd is started.
type Option func(*config)

type config struct {
	binary       string
	record       bool
	extraArgs    []string
	startTimeout time.Duration
}

func defaultConfig() config {
	binary := "burrowd"
	if env := os.Getenv("BURROWD"); env != "" {
		binary = env
	}
	return config{binary: binary, startTimeout: 10 * time.Second}
}

// WithRecord starts burrowd with --record, so Published works.
// Default: off (Published fails with status 400).
func WithRecord() Option { return func(c *config) { c.record = true } }

// WithArgs appends more burrowd arguments, after the defaults (a later flag wins).
// Default: none.
func WithArgs(args ...string) Option {
	return func(c *config) { c.extraArgs = append(c.extraArgs, args...) }
}

// WithBinary sets the burrowd executable. Default: $BURROWD, else "burrowd" on PATH.
func WithBinary(path string) Option { return func(c *config) { c.binary = path } }

// WithStartTimeout bounds the wait for burrowd's ready line. Default: 10s; past it Start
// fails and the process is killed.
func WithStartTimeout(d time.Duration) Option { return func(c *config) { c.startTimeout = d } }
