"""`RunInputs`: what one run was asked for, copied when it starts.

The prompt box stays editable while a run goes on (the next prompt can be written meanwhile), so nothing that
describes a run reads the widget's inputs after it started: its captions, static copy, saved file names, parameter
line and "copy as code" read this copy. An edit during a run is for the next run, and relabels nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunInputs:
    prompt: str
    kind: str
    model: str  # "" = the server's default
    size: str  # "" = the server's default
    n: int
    duration: float  # 0 = the server's default
    seed: int | None

    @classmethod
    def of(cls, widget: Any) -> RunInputs:
        """The inputs of `widget` (a GenerationWidget) as they are now."""
        return cls(widget.prompt, widget.kind, widget.model, widget.size, widget.n, widget.duration, widget.seed)
