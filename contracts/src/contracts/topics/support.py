"""Topics the support service publishes."""

from contracts.spec import TopicSpec

TOPICS: tuple[TopicSpec, ...] = ()
