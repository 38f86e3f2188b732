// The helper itself: how it starts, stops and fails, whatever the broker's features.
package burrowtest

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestStartGivesURLsOnEphemeralPortsAndStopExitsCleanly(t *testing.T) {
	b, err := StartMain()
	must(t, err)
	if !regexp.MustCompile(`^amqp://127\.0\.0\.1:\d+$`).MatchString(b.URL) ||
		!regexp.MustCompile(`^http://127\.0\.0\.1:\d+$`).MatchString(b.HTTPURL) {
		t.Errorf("URL %q HTTPURL %q", b.URL, b.HTTPURL)
	}
	var clock clockState
	must(t, b.API("GET", "/api/burrow/clock", nil, &clock))
	if clock.Mode != "manual" {
		t.Errorf("clock mode %q, want manual", clock.Mode)
	}
	must(t, b.Stop())
	must(t, b.Stop()) // a second Stop is harmless
}

func TestStopClosesConnectionsWith320First(t *testing.T) {
	b, err := StartMain()
	must(t, err)
	closed := dial(t, b.URL, "").NotifyClose(make(chan *amqp.Error, 1))
	must(t, b.Stop())
	select {
	case err := <-closed:
		if err == nil || err.Code != amqp.ConnectionForced {
			t.Errorf("NotifyClose after Stop: %v, want 320 as when RabbitMQ shuts down", err)
		}
	case <-time.After(waitLimit):
		t.Error("NotifyClose said nothing after Stop")
	}
}

func TestWithSystemClockRunsOnRealTime(t *testing.T) {
	b := Start(t, WithSystemClock(), WithLogLevel("error"))
	var clock clockState
	must(t, b.API("GET", "/api/burrow/clock", nil, &clock))
	if clock.Mode != "system" {
		t.Errorf("clock mode %q, want system", clock.Mode)
	}
	var apiErr *APIError
	if _, err := b.Advance(time.Second); !errors.As(err, &apiErr) || apiErr.Status != 400 {
		t.Errorf("Advance on the system clock: %v, want 400", err)
	}
}

func TestStartFailsClearly(t *testing.T) {
	_, err := StartMain(WithBinary("/nonexistent/burrowd"))
	if err == nil || !strings.Contains(err.Error(), "BURROWD") {
		t.Errorf("missing binary: %v, want a hint about BURROWD", err)
	}
	_, err = StartMain(WithArgs("--no-such-flag"))
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") ||
		!strings.Contains(err.Error(), "stderr") {
		t.Errorf("bad flag: %v, want the early exit and burrowd's stderr", err)
	}
	if os.Getenv("BURROWD") == "" {
		t.Log("BURROWD is not set: burrowd was looked up on PATH")
	}
}

func TestAdvanceRefusesNegativeOrSubMillisecond(t *testing.T) {
	for _, d := range []time.Duration{-time.Second, 1500 * time.Microsecond} {
		if _, err := shared.Advance(d); err == nil {
			t.Errorf("Advance(%v) succeeded", d)
		}
	}
}

func TestPublishedWithoutRecordSaysWhy(t *testing.T) {
	_, err := shared.Published()
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 400 ||
		!strings.Contains(apiErr.Reason, "start burrowd with --record") {
		t.Errorf("Published without --record: %v, want 400 naming --record", err)
	}
}
