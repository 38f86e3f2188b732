module github.com/burrow-mq/burrow/testing/go/burrowtest

go 1.19

// Only the tests use amqp091-go; the package itself is the standard library alone.
require github.com/rabbitmq/amqp091-go v1.5.0
