"""Errors a user can cause. Deep code raises them with a precise message; the public
entry point adds the cell text once, so the caret points into what the user typed."""
from __future__ import annotations


CONTEXT = 60   # characters of a long line shown on each side of the caret


class DerivError(ValueError):
    """Base of every error caused by the input cell."""

    def __init__(self, message: str, *, text: str | None = None, pos: int | None = None, end: int | None = None):
        super().__init__(message)
        self.message = message
        self.text = text
        self.pos = pos
        self.end = end

    def located(self, text: str, offset: int) -> "DerivError":
        """Attach the cell text, shifting a position relative to a statement by ``offset``."""
        if self.text is None:
            self.text = text
            if self.pos is not None:
                self.pos += offset
                self.end = None if self.end is None else self.end + offset
        return self

    def caret(self) -> str:
        """The offending line of the cell with a caret (or a run of carets) under the error."""
        if self.text is None or self.pos is None:
            return ""
        start = self.text.rfind("\n", 0, self.pos) + 1
        stop = self.text.find("\n", self.pos)
        stop = len(self.text) if stop < 0 else stop
        width = max(1, min((self.end or self.pos + 1), stop) - self.pos)
        # a long line is cut around the caret, so a message stays a few lines whatever the cell
        lead, head = "", start
        if self.pos - start > CONTEXT:
            head, lead = self.pos - CONTEXT, "…"
        tail_end = min(stop, self.pos + min(width, CONTEXT) + CONTEXT)
        trail = "…" if tail_end < stop else ""
        width = min(width, tail_end - self.pos) or 1
        line = lead + self.text[head:tail_end] + trail
        return line + "\n" + " " * (len(lead) + self.pos - head) + "^" * width

    def __str__(self) -> str:
        caret = self.caret()
        return f"{self.message}\n{caret}" if caret else self.message


class ParseError(DerivError):
    """Malformed or unsupported notation."""


class ShapeError(DerivError):
    """Operands whose shapes do not fit together."""


class LimitError(DerivError):
    """An input beyond the configured size or work limits."""
