// Fault injection seen through amqp091-go, on the broker shared from TestMain.
package burrowtest

import (
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestCloseConnectionsIsSeenAndTheClientRedials(t *testing.T) {
	b := fresh(t)
	conn := dial(t, b.URL, "orders-service")
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	bystander := dial(t, b.URL, "audit")

	n, err := b.CloseConnections("orders-service")
	must(t, err)
	if n != 1 {
		t.Errorf("closed %d connections, want 1", n)
	}

	select {
	case err := <-closed:
		if err == nil || err.Code != amqp.ConnectionForced ||
			!strings.Contains(err.Reason, "Closed via fault injection") {
			t.Fatalf("NotifyClose gave %v, want 320 CONNECTION_FORCED - Closed via fault injection", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("NotifyClose said nothing")
	}
	conn, attempts := redial(t, b.URL, "orders-service")
	t.Logf("back after %d attempt(s)", attempts)
	ch := confirmChannel(t, conn)
	declare(t, ch, "orders", nil)
	ch.publish(t, "", "orders", amqp.Publishing{Body: []byte("after-redial")})
	msg, ok, err := ch.Get("orders", true)
	must(t, err)
	if !ok || string(msg.Body) != "after-redial" {
		t.Fatalf("get after redial: ok=%v body=%q", ok, msg.Body)
	}
	if bystander.IsClosed() {
		t.Error("the connection named audit was closed too")
	}
}

func TestCloseConnectionsWithoutAClientClosesAll(t *testing.T) {
	b := fresh(t)
	dial(t, b.URL, "a")
	dial(t, b.URL, "b")
	n, err := b.CloseConnections("")
	must(t, err)
	if n != 2 {
		t.Errorf("closed %d connections, want 2", n)
	}
}

func TestRefuseConnectionsUntilTheWindowPasses(t *testing.T) {
	b := fresh(t)
	must(t, b.RefuseConnections(300*time.Millisecond))
	if conn, err := dialNamed(b.URL, ""); err == nil {
		conn.Close()
		t.Fatal("a connection was accepted inside the refuse window")
	}
	_, attempts := redial(t, b.URL, "")
	t.Logf("connected after %d attempt(s)", attempts)
}

func TestNackPublishesNacksAndDoesNotRoute(t *testing.T) {
	b := fresh(t)
	ch := confirmChannel(t, dial(t, b.URL, ""))
	declare(t, ch, "payments", nil)
	must(t, b.NackPublishes(1))

	ch.send(t, "", "payments", amqp.Publishing{Body: []byte("p1")})
	ch.send(t, "", "payments", amqp.Publishing{Body: []byte("p2")})

	if first, second := ch.confirmed(t), ch.confirmed(t); first || !second {
		t.Fatalf("acks %v, %v; want the first publish nacked and the second acked", first, second)
	}
	q, err := ch.QueueDeclarePassive("payments", false, false, false, false, nil)
	must(t, err)
	if q.Messages != 1 {
		t.Errorf("payments holds %d messages, want 1 (the nacked one is not routed)", q.Messages)
	}
}

func TestDelayConfirmsHoldsConfirmsUntilCleared(t *testing.T) {
	b := fresh(t)
	ch := confirmChannel(t, dial(t, b.URL, ""))
	declare(t, ch, "slow", nil)
	must(t, b.DelayConfirms(200*time.Millisecond))

	started := time.Now()
	ch.publish(t, "", "slow", amqp.Publishing{Body: []byte("s1")})
	delayed := time.Since(started)
	must(t, b.ClearFaults())
	started = time.Now()
	ch.publish(t, "", "slow", amqp.Publishing{Body: []byte("s2")})
	t.Logf("confirm took %v delayed, %v cleared", delayed, time.Since(started))
	if delayed < 195*time.Millisecond {
		t.Errorf("a 200ms delay_confirms confirmed after %v", delayed)
	}
}

func TestDropAcksRedeliversAnAckedMessage(t *testing.T) {
	b := fresh(t)
	ch := confirmChannel(t, dial(t, b.URL, ""))
	declare(t, ch, "jobs", nil)
	ch.publish(t, "", "jobs", amqp.Publishing{Body: []byte("job-1")})
	must(t, b.DropAcks(1))

	deliveries, err := ch.Consume("jobs", "worker", false, false, false, false, nil)
	must(t, err)
	var got []string
	for len(got) < 2 {
		select {
		case d := <-deliveries:
			got = append(got, string(d.Body)+map[bool]string{true: " redelivered", false: ""}[d.Redelivered])
			must(t, d.Ack(false))
		case <-time.After(waitLimit):
			t.Fatalf("deliveries so far %q, want the message twice", got)
		}
	}

	if want := []string{"job-1", "job-1 redelivered"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("deliveries %q, want %q", got, want)
	}
	// The second ack counted: nothing is left (a get after the ack on one channel is ordered).
	must(t, ch.Cancel("worker", false))
	if _, ok, err := ch.Get("jobs", false); err != nil || ok {
		t.Errorf("after the second ack: get ok=%v err=%v, want an empty queue", ok, err)
	}
}

func TestClearFaultsAndResetDisarmFaults(t *testing.T) {
	b := fresh(t)
	publishOnce := func() bool {
		ch := confirmChannel(t, dial(t, b.URL, ""))
		declare(t, ch, "q", nil)
		ch.send(t, "", "q", amqp.Publishing{Body: []byte("m")})
		return ch.confirmed(t)
	}
	must(t, b.NackPublishes(5))
	must(t, b.ClearFaults())
	if !publishOnce() {
		t.Error("nacked after ClearFaults")
	}
	must(t, b.NackPublishes(5))
	must(t, b.Reset())
	if !publishOnce() {
		t.Error("nacked after Reset")
	}
}
