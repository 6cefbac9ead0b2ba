"""Support use cases: cases, the agent desk, SLA monitoring and notification requests."""
