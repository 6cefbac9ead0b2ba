"""The topic catalogue follows the naming rules of ARCHITECTURE.md."""

import re

import pytest

from contracts.catalogue import TOPICS, all_topic_names, topic

pytestmark = pytest.mark.unit

NAME = re.compile(r"^(identity|invoicing|signing|notifications|support)\.[a-z]+(-[a-z]+)*\.v\d+$")


@pytest.mark.parametrize("spec", TOPICS, ids=lambda s: s.name)
def test_topic_names_are_producer_event_version(spec):
    assert NAME.match(spec.name), spec.name
    assert spec.dlq == spec.name + ".dlq"
    assert spec.partitions >= 1


def test_every_topic_has_a_dead_letter_twin():
    names = all_topic_names()
    assert len(names) == 2 * len(TOPICS)
    assert all(t.dlq in names for t in TOPICS)


def test_unknown_topic_lookup_says_which():
    with pytest.raises(KeyError, match=r"nope\.v1"):
        topic("nope.v1")
