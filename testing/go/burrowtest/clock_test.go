// The manual clock and Reset through amqp091-go, on the broker shared from TestMain.
package burrowtest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestSixtySecondTTLDeadLettersAfterAdvance(t *testing.T) {
	b := fresh(t)
	started := time.Now()
	ch := confirmChannel(t, dial(t, b.URL, ""))
	must(t, ch.ExchangeDeclare("orders.dlx", "fanout", false, false, false, false, nil))
	declare(t, ch, "orders.dlq", nil)
	must(t, ch.QueueBind("orders.dlq", "", "orders.dlx", false, nil))
	declare(t, ch, "orders", amqp.Table{"x-message-ttl": int32(60000),
		"x-dead-letter-exchange": "orders.dlx"})
	// Confirmed, so the message is in its queue and its 60 s have started before the clock moves.
	ch.publish(t, "", "orders", amqp.Publishing{Body: []byte("order-1")})
	before, err := b.Now()
	must(t, err)

	after, err := b.Advance(61 * time.Second)
	must(t, err)

	if got := after.Sub(before); got != 61*time.Second {
		t.Errorf("clock moved %v, want 61s", got)
	}
	msg, ok, err := ch.Get("orders.dlq", true)
	must(t, err)
	if !ok {
		t.Fatal("the expired message did not reach the dead-letter queue")
	}
	if string(msg.Body) != "order-1" {
		t.Errorf("body %q", msg.Body)
	}
	deaths, _ := msg.Headers["x-death"].([]interface{})
	if len(deaths) != 1 {
		t.Fatalf("x-death = %#v, want one entry", msg.Headers["x-death"])
	}
	death := deaths[0].(amqp.Table)
	want := amqp.Table{"count": int64(1), "reason": "expired", "queue": "orders", "exchange": "",
		"routing-keys": []interface{}{"orders"}}
	for k, v := range want {
		if !reflect.DeepEqual(death[k], v) {
			t.Errorf("x-death %s = %#v, want %#v", k, death[k], v)
		}
	}
	t.Logf("60 s TTL dead-lettered in %v of real time", time.Since(started))
}

func TestResetBetweenTests(t *testing.T) {
	t.Run("first test declares a queue", func(t *testing.T) {
		b := fresh(t)
		ch, err := dial(t, b.URL, "").Channel()
		must(t, err)
		declare(t, ch, "leftover", nil)
	})
	t.Run("second test does not see it", func(t *testing.T) {
		b := fresh(t)
		ch, err := dial(t, b.URL, "").Channel()
		must(t, err)
		_, err = ch.QueueDeclarePassive("leftover", false, false, false, false, nil)
		var amqpErr *amqp.Error
		if !errors.As(err, &amqpErr) || amqpErr.Code != amqp.NotFound {
			t.Fatalf("passive declare after Reset: %v, want 404 NOT_FOUND", err)
		}
	})
}

func TestResetClosesConnectionsWith320(t *testing.T) {
	b := fresh(t)
	closed := dial(t, b.URL, "").NotifyClose(make(chan *amqp.Error, 1))
	must(t, b.Reset())
	select {
	case err := <-closed:
		if err == nil || err.Code != amqp.ConnectionForced {
			t.Fatalf("closed with %v, want 320", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("the connection was not closed")
	}
}
