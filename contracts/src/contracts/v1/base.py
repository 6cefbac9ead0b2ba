"""Common base for event payloads: strict field names, extra fields tolerated for forward compatibility."""

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    """Base of every payload; unknown fields are ignored so producers may add optional ones."""

    model_config = ConfigDict(extra="ignore", frozen=True)
