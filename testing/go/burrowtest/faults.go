// Fault injection: POST /api/burrow/faults, one fault per call.
package burrowtest

import "time"

// Fault arms one fault given as its JSON object, e.g. {"fault": "drop_acks", "count": 2},
// and returns the answer's JSON object (nil for 204). The typed methods below cover every
// fault of docs/testing.md; an unknown fault is an *APIError with status 400.
func (b *Broker) Fault(spec map[string]any) (map[string]any, error) {
	var out map[string]any
	err := b.API("POST", "/api/burrow/faults", spec, &out)
	return out, err
}

// CloseConnections closes every AMQP connection with 320 CONNECTION_FORCED, or, when
// client is not empty, those whose management name or client-provided connection_name
// equals client. It returns how many it closed.
func (b *Broker) CloseConnections(client string) (int, error) {
	spec := map[string]any{"fault": "close_connections"}
	if client != "" {
		spec["client"] = client
	}
	var out struct{ Closed int }
	err := b.API("POST", "/api/burrow/faults", spec, &out)
	return out.Closed, err
}

// RefuseConnections makes new TCP connections close before the AMQP handshake for d of real
// time.
func (b *Broker) RefuseConnections(d time.Duration) error {
	_, err := b.Fault(map[string]any{"fault": "refuse_connections", "ms": d.Milliseconds()})
	return err
}

// NackPublishes makes the next n publishes on confirm-mode channels unrouted and nacked.
func (b *Broker) NackPublishes(n int) error {
	_, err := b.Fault(map[string]any{"fault": "nack_publishes", "count": n})
	return err
}

// DelayConfirms holds every publisher confirm for d of real time, until cleared (d = 0 or
// ClearFaults).
func (b *Broker) DelayConfirms(d time.Duration) error {
	_, err := b.Fault(map[string]any{"fault": "delay_confirms", "ms": d.Milliseconds()})
	return err
}

// DropAcks makes the next n acknowledged deliveries count as unacknowledged: the broker
// requeues them with redelivered=true, as if the consumer crashed before its ack arrived.
func (b *Broker) DropAcks(n int) error {
	_, err := b.Fault(map[string]any{"fault": "drop_acks", "count": n})
	return err
}

// Faults returns the armed faults as burrowd reports them.
func (b *Broker) Faults() (map[string]any, error) {
	var out map[string]any
	err := b.API("GET", "/api/burrow/faults", nil, &out)
	return out, err
}

// ClearFaults disarms every fault.
func (b *Broker) ClearFaults() error {
	return b.API("DELETE", "/api/burrow/faults", nil, nil)
}
