"""What the catalogue records about a topic: name, key, owner, readers, schema, retention."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

DAY_MS = 24 * 3600 * 1000
DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True)
class TopicSpec:
    """One topic: its name, key, owner, readers, payload schema and retention."""

    name: str
    key: str
    producer: str
    consumers: tuple[str, ...]
    schema: type[BaseModel]
    description: str
    partitions: int = 3
    retention_ms: int = 7 * DAY_MS
    dlq_retention_ms: int = 30 * DAY_MS
    config: dict[str, str] = field(default_factory=dict)

    @property
    def dlq(self) -> str:
        """Name of the dead-letter twin of this topic."""
        return self.name + DLQ_SUFFIX

    @property
    def schema_name(self) -> str:
        """The ce_type of events on this topic (equal to the topic name)."""
        return self.name
