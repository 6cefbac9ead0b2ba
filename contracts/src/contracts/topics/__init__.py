"""Topic specs grouped by producing service; `contracts.catalogue` aggregates them."""
