// Recording (burrowd --record): what was published, where it went.
package burrowtest

import (
	"encoding/base64"
	"net/url"
)

// Message is one recorded publish.
type Message struct {
	VHost      string `json:"vhost"`
	Exchange   string `json:"exchange"`
	RoutingKey string `json:"routing_key"`
	// Properties as in the management API's GET /api/queues/{vhost}/{queue}/get, e.g.
	// "content_type", "headers".
	Properties      map[string]any `json:"properties"`
	Payload         string         `json:"payload"`
	PayloadEncoding string         `json:"payload_encoding"` // "string" or "base64"
	Queues          []string       `json:"queues"`           // every queue it reached
	PublishedAt     int64          `json:"published_at"`     // broker clock, ms since epoch
	// Body is Payload decoded.
	Body []byte `json:"-"`
}

// Filter narrows Published to one vhost, exchange or routing key.
type Filter struct{ key, value string }

// ByVHost keeps messages published in vhost.
func ByVHost(vhost string) Filter { return Filter{"vhost", vhost} }

// ByExchange keeps messages published to exchange ("" is the default exchange).
func ByExchange(exchange string) Filter { return Filter{"exchange", exchange} }

// ByRoutingKey keeps messages published with routingKey.
func ByRoutingKey(routingKey string) Filter { return Filter{"routing_key", routingKey} }

// Published returns what was published since the start, the last Reset or ClearPublished,
// oldest first, that matches every filter. It fails with an *APIError of status 400 unless
// the broker was started WithRecord.
func (b *Broker) Published(filters ...Filter) ([]Message, error) {
	query := url.Values{}
	for _, f := range filters {
		query.Set(f.key, f.value)
	}
	path := "/api/burrow/published"
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	var msgs []Message
	if err := b.API("GET", path, nil, &msgs); err != nil {
		return nil, err
	}
	for i := range msgs {
		m := &msgs[i]
		if m.PayloadEncoding == "base64" {
			body, err := base64.StdEncoding.DecodeString(m.Payload)
			if err != nil {
				return nil, err
			}
			m.Body = body
		} else {
			m.Body = []byte(m.Payload)
		}
	}
	return msgs, nil
}

// ClearPublished forgets what was recorded so far.
func (b *Broker) ClearPublished() error {
	return b.API("DELETE", "/api/burrow/published", nil, nil)
}
