"""Error kinds the message handlers raise, which decide retry versus dead-letter."""


class PermanentError(Exception):
    """Retrying cannot help (bad content, broken rule): dead-letter or reject with the reason."""


class TransientError(Exception):
    """A dependency hiccup: retry with back-off, and redeliver if it persists."""
