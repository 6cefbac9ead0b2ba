# Local stack targets, included from the root Makefile (see libs/devstack/README.md).
UV ?= uv
FACTORA_STACK ?= $(UV) run factora-stack

.PHONY: up down kafka-jars stack-status stack-infra

up:  ## run Kafka, PostgreSQL, the SMTP catcher and the five services in the foreground (Ctrl-C stops)
	$(FACTORA_STACK) up

down:  ## stop a stack left running (supervisor and every child process)
	$(FACTORA_STACK) down

stack-infra:  ## run only Kafka, PostgreSQL, the SMTP catcher and the topics (develop a service by hand)
	$(FACTORA_STACK) infra

stack-status:  ## probe each part of the local stack
	$(FACTORA_STACK) status

kafka-jars:  ## fetch the Kafka broker jars with Maven into deploy/local/kafka/lib (once; offline later)
	$(FACTORA_STACK) kafka-jars
