"""Topics the identity service publishes."""

from contracts.spec import TopicSpec

TOPICS: tuple[TopicSpec, ...] = ()
