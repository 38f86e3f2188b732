// amqp091-go helpers the tests share: dial with cleanup, a reconnect loop, confirmed publish.
package burrowtest

import (
	"context"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

const waitLimit = 5 * time.Second // how long a test waits for an event that should come

// dial connects as connection_name name (none if empty) and closes the connection when t ends.
func dial(t *testing.T, url, name string) *amqp.Connection {
	t.Helper()
	conn, err := dialNamed(url, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func dialNamed(url, name string) (*amqp.Connection, error) {
	cfg := amqp.Config{Properties: amqp.Table{}}
	if name != "" {
		cfg.Properties["connection_name"] = name
	}
	return amqp.DialConfig(url, cfg)
}

// redial is an application's reconnect loop: dial every 50 ms until it works or waitLimit
// has passed. It returns the connection and how many attempts it took.
func redial(t *testing.T, url, name string) (*amqp.Connection, int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for attempt := 1; ; attempt++ {
		conn, err := dialNamed(url, name)
		if err == nil {
			t.Cleanup(func() { conn.Close() })
			return conn, attempt
		}
		if time.Now().After(deadline) {
			t.Fatalf("still no connection after %d attempts: %v", attempt, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// publisher is a channel in confirm mode whose confirmations arrive, in publish order, on a
// NotifyPublish listener registered before the first publish. Not DeferredConfirmation: in
// v1.5.0 it is registered after the publish is sent, so a confirm that comes back at once (a
// nack_publishes nack) can arrive first and be lost, and Wait then blocks forever (fixed
// upstream after v1.5.0).
type publisher struct {
	*amqp.Channel
	confirms chan amqp.Confirmation
}

func confirmChannel(t *testing.T, conn *amqp.Connection) *publisher {
	t.Helper()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	p := &publisher{ch, ch.NotifyPublish(make(chan amqp.Confirmation, 64))}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	return p
}

// send publishes msg to exchange with routing key key without waiting for its confirm.
func (p *publisher) send(t *testing.T, exchange, key string, msg amqp.Publishing) {
	t.Helper()
	if err := p.PublishWithContext(context.Background(), exchange, key, false, false, msg); err != nil {
		t.Fatal(err)
	}
}

// confirmed waits for the next confirmation and reports whether it was an ack.
func (p *publisher) confirmed(t *testing.T) bool {
	t.Helper()
	select {
	case c, ok := <-p.confirms:
		if !ok {
			t.Fatal("the channel closed before its publisher confirm")
		}
		return c.Ack
	case <-time.After(waitLimit):
		t.Fatal("no publisher confirm")
		return false
	}
}

// publish sends msg and fails t unless the broker acks it.
func (p *publisher) publish(t *testing.T, exchange, key string, msg amqp.Publishing) {
	t.Helper()
	p.send(t, exchange, key, msg)
	if !p.confirmed(t) {
		t.Fatalf("publish to %q/%q nacked", exchange, key)
	}
}

// declare declares a non-durable queue on a plain or a confirm-mode channel.
func declare(t *testing.T, ch interface {
	QueueDeclare(name string, durable, autoDelete, exclusive, noWait bool, args amqp.Table) (amqp.Queue, error)
}, queue string, args amqp.Table) {
	t.Helper()
	if _, err := ch.QueueDeclare(queue, false, false, false, false, args); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
