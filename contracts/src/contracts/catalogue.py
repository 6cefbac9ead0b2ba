"""The topic catalogue: every Kafka topic of the network, who writes it, who reads it, its schema.

Each producing service's topics live in `contracts.topics.<service>`; this module is the one
place that lists them all (topic creation, schema snapshots and docs read it).
"""

from __future__ import annotations

from contracts.spec import DAY_MS, DLQ_SUFFIX, TopicSpec
from contracts.topics import identity, invoicing, notifications, signing, support
from contracts.topics.invoicing import (
    INVOICE_ISSUED,
    INVOICE_STATUS_CHANGED,
    PARTNER_INVOICE_REJECTED,
    PARTNER_INVOICE_SUBMITTED,
)
from contracts.topics.notifications import DELIVERY_STATUS, SEND_REQUESTED
from contracts.topics.signing import INVOICE_SEALED, SEALING_FAILED

__all__ = [
    "BY_NAME",
    "DAY_MS",
    "DELIVERY_STATUS",
    "DLQ_SUFFIX",
    "INVOICE_ISSUED",
    "INVOICE_SEALED",
    "INVOICE_STATUS_CHANGED",
    "PARTNER_INVOICE_REJECTED",
    "PARTNER_INVOICE_SUBMITTED",
    "SEALING_FAILED",
    "SEND_REQUESTED",
    "TOPICS",
    "TopicSpec",
    "all_topic_names",
    "topic",
]

TOPICS: tuple[TopicSpec, ...] = (
    identity.TOPICS + invoicing.TOPICS + signing.TOPICS + notifications.TOPICS + support.TOPICS
)

BY_NAME: dict[str, TopicSpec] = {t.name: t for t in TOPICS}


def topic(name: str) -> TopicSpec:
    """The spec of a catalogued topic; KeyError names the unknown topic."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"topic {name!r} is not in the contracts catalogue") from None


def all_topic_names() -> list[str]:
    """Every topic and its dead-letter twin, as the broker must have them."""
    return [n for t in TOPICS for n in (t.name, t.dlq)]
