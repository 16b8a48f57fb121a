"""Who a call is attributed to: the dimensions caps match and reports break down by."""

from __future__ import annotations

from dataclasses import dataclass

AGENT_SEPARATOR = "/"


@dataclass(frozen=True, slots=True)
class Attribution:
    provider: str
    model: str
    agent: str | None = None
    customer_id: str | None = None

    def agent_segments(self) -> tuple[str, ...]:
        if not self.agent:
            return ()
        return tuple(segment for segment in self.agent.split(AGENT_SEPARATOR) if segment)
