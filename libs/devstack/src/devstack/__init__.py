"""Factora local stack: Kafka from Maven jars, embedded PostgreSQL, SMTP catcher, supervisor."""
