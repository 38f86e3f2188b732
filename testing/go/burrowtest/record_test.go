// Recording through amqp091-go, on a broker of its own started WithRecord: Start(t) once for
// a group of subtests, Reset before each.
package burrowtest

import (
	"bytes"
	"reflect"
	"sort"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestRecording(t *testing.T) {
	b := Start(t, WithRecord())
	for _, tc := range []struct {
		name string
		test func(*testing.T, *Broker, *publisher)
	}{
		{"PublishedShowsWhereEachMessageWent", testPublishedShowsWhereEachMessageWent},
		{"PublishedFilters", testPublishedFilters},
		{"PublishedBinaryBody", testPublishedBinaryBody},
		{"ClearPublishedAndResetForgetTheRecording", testClearPublishedAndResetForgetTheRecording},
	} {
		t.Run(tc.name, func(t *testing.T) {
			must(t, b.Reset())
			tc.test(t, b, declareOrders(t, b))
		})
	}
}

// declareOrders declares exchange orders (topic) with billing bound to order.*, shipping to
// order.created, and audit unbound, and returns a confirm-mode channel.
func declareOrders(t *testing.T, b *Broker) *publisher {
	ch := confirmChannel(t, dial(t, b.URL, ""))
	must(t, ch.ExchangeDeclare("orders", "topic", false, false, false, false, nil))
	for _, q := range []string{"billing", "shipping", "audit"} {
		declare(t, ch, q, nil)
	}
	must(t, ch.QueueBind("billing", "order.*", "orders", false, nil))
	must(t, ch.QueueBind("shipping", "order.created", "orders", false, nil))
	return ch
}

type seen struct {
	VHost, Exchange, RoutingKey, Body string
	Queues                            []string
}

func summarize(msgs []Message) []seen {
	out := []seen{}
	for _, m := range msgs {
		queues := append([]string{}, m.Queues...)
		sort.Strings(queues)
		out = append(out, seen{m.VHost, m.Exchange, m.RoutingKey, string(m.Body), queues})
	}
	return out
}

func testPublishedShowsWhereEachMessageWent(t *testing.T, b *Broker, ch *publisher) {
	ch.publish(t, "orders", "order.created", amqp.Publishing{Body: []byte(`{"id":7}`),
		ContentType: "application/json", Headers: amqp.Table{"tenant": "acme"}})
	ch.publish(t, "orders", "order.cancelled", amqp.Publishing{Body: []byte(`{"id":8}`)})
	ch.publish(t, "orders", "invoice.sent", amqp.Publishing{Body: []byte("unroutable")})

	msgs, err := b.Published()
	must(t, err)

	want := []seen{
		{"/", "orders", "order.created", `{"id":7}`, []string{"billing", "shipping"}},
		{"/", "orders", "order.cancelled", `{"id":8}`, []string{"billing"}},
		{"/", "orders", "invoice.sent", "unroutable", []string{}},
	}
	if got := summarize(msgs); !reflect.DeepEqual(got, want) {
		t.Fatalf("published\n got %+v\nwant %+v", got, want)
	}
	if ct := msgs[0].Properties["content_type"]; ct != "application/json" {
		t.Errorf("content_type %v", ct)
	}
	if h := msgs[0].Properties["headers"]; !reflect.DeepEqual(h, map[string]any{"tenant": "acme"}) {
		t.Errorf("headers %v", h)
	}
	if msgs[0].PublishedAt == 0 {
		t.Error("published_at missing")
	}
}

func testPublishedFilters(t *testing.T, b *Broker, ch *publisher) {
	ch.publish(t, "", "audit", amqp.Publishing{Body: []byte("direct")})
	ch.publish(t, "orders", "order.created", amqp.Publishing{Body: []byte("o1")})

	created, err := b.Published(ByRoutingKey("order.created"))
	must(t, err)
	viaDefault, err := b.Published(ByExchange(""), ByVHost("/"))
	must(t, err)

	if got := summarize(created); len(got) != 1 || got[0].Body != "o1" {
		t.Errorf("ByRoutingKey(order.created) = %+v", got)
	}
	if got := summarize(viaDefault); !reflect.DeepEqual(got,
		[]seen{{"/", "", "audit", "direct", []string{"audit"}}}) {
		t.Errorf("ByExchange(\"\") = %+v", got)
	}
}

func testPublishedBinaryBody(t *testing.T, b *Broker, ch *publisher) {
	body := []byte{0, 1, 2, 0xfe, 0xff}
	ch.publish(t, "", "audit", amqp.Publishing{Body: body})
	msgs, err := b.Published()
	must(t, err)
	if len(msgs) != 1 || !bytes.Equal(msgs[0].Body, body) {
		t.Fatalf("recorded %+v, want body %v", msgs, body)
	}
}

func testClearPublishedAndResetForgetTheRecording(t *testing.T, b *Broker, ch *publisher) {
	ch.publish(t, "", "audit", amqp.Publishing{Body: []byte("one")})
	must(t, b.ClearPublished())
	if msgs, err := b.Published(); err != nil || len(msgs) != 0 {
		t.Fatalf("after ClearPublished: %+v, %v", msgs, err)
	}
	ch.publish(t, "", "audit", amqp.Publishing{Body: []byte("two")})
	must(t, b.Reset())
	if msgs, err := b.Published(); err != nil || len(msgs) != 0 {
		t.Fatalf("after Reset: %+v, %v", msgs, err)
	}
}
