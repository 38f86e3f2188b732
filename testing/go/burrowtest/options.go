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
	clock        string
	logLevel     string
	extraArgs    []string
	startTimeout time.Duration
}

func defaultConfig() config {
	binary := "burrowd"
	if env := os.Getenv("BURROWD"); env != "" {
		binary = env
	}
	return config{binary: binary, clock: "manual", logLevel: "warn", startTimeout: 10 * time.Second}
}

// WithRecord starts burrowd with --record, so Published works.
// Default: off (Published fails with status 400).
func WithRecord() Option { return func(c *config) { c.record = true } }

// WithSystemClock runs burrowd on real time, for a suite that sleeps through TTLs as it did
// against RabbitMQ; Advance then fails with status 400. Default: the manual clock.
func WithSystemClock() Option { return func(c *config) { c.clock = "system" } }

// WithLogLevel sets burrowd's --log-level (its stderr is kept for Stderr).
// Default: "warn".
func WithLogLevel(level string) Option { return func(c *config) { c.logLevel = level } }

// WithArgs appends more burrowd arguments after the defaults; not a flag that the defaults or
// other options already pass, since burrowd refuses a flag twice. Default: none.
func WithArgs(args ...string) Option {
	return func(c *config) { c.extraArgs = append(c.extraArgs, args...) }
}

// WithBinary sets the burrowd executable. Default: $BURROWD, else "burrowd" on PATH.
func WithBinary(path string) Option { return func(c *config) { c.binary = path } }

// WithStartTimeout bounds the wait for burrowd's ready line. Default: 10s; past it Start
// fails and the process is killed.
func WithStartTimeout(d time.Duration) Option { return func(c *config) { c.startTimeout = d } }
