// Package burrowtest starts burrowd, an AMQP 0-9-1 broker that behaves like RabbitMQ 3.10,
// as a test double for Go tests, and drives its test controls over its HTTP API: a manual
// clock (Advance), Reset, recording of what was published (Published) and fault injection
// (CloseConnections, NackPublishes, ...). The contract is docs/testing.md in the Burrow
// repository.
//
// Each Broker is one burrowd process started with
//
//	--in-memory --port 0 --http-port 0 --clock manual --log-level warn
//
// Start(t) gives a broker for one test and stops it in t.Cleanup; StartMain gives one to
// share from TestMain. Point any RabbitMQ client at Broker.URL (user guest/guest, vhost /).
//
// A Broker's methods are safe for concurrent use: each is one HTTP request. The package uses
// only the standard library.
package burrowtest
