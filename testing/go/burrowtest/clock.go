// The manual clock and reset.
package burrowtest

import (
	"fmt"
	"time"
)

type clockState struct {
	Mode  string `json:"mode"`
	NowMS int64  `json:"now_ms"`
}

// Now returns the broker's clock.
func (b *Broker) Now() (time.Time, error) {
	var c clockState
	if err := b.API("GET", "/api/burrow/clock", nil, &c); err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(c.NowMS), nil
}

// Advance moves the manual clock forward by d, a non-negative whole number of milliseconds,
// and returns the new time. Every TTL, x-expires, delayed message and consumer timeout that
// falls due fires, in due order, before it returns. Publish with confirms first (or make any
// synchronous call on the channel) so the message is in its queue before the clock moves.
func (b *Broker) Advance(d time.Duration) (time.Time, error) {
	if d < 0 || d%time.Millisecond != 0 {
		return time.Time{}, fmt.Errorf("burrowtest: Advance(%v): want a non-negative whole number of milliseconds", d)
	}
	var c clockState
	if err := b.API("POST", "/api/burrow/clock/advance", map[string]int64{"ms": d.Milliseconds()}, &c); err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(c.NowMS), nil
}

// Reset returns the broker to the state of a fresh start: every connection closed (320
// CONNECTION_FORCED), every queue, message, exchange, binding, non-default vhost and user
// deleted, faults and the recording cleared. The clock is not moved back.
func (b *Broker) Reset() error {
	return b.API("POST", "/api/burrow/reset", nil, nil)
}
