"""Identity use cases, called by the HTTP API, the Kafka consumer and the operator commands."""
