"""What every engine returns: spans and relations with ids and scores, plus diagnostics."""
from __future__ import annotations

from dataclasses import dataclass, field

from .document import Relation, Span


@dataclass
class Prediction:
    """An engine's output for one text.

    `entities` and `relations` carry ids (T1…, R1…) and a score in 0..1 each; `dropped`
    lists what the engine found but could not output under the schema (for example a
    VALUE with no head, or one the normaliser cannot read), so that nothing is lost
    silently; `repaired` lists spans the engine changed after decoding (the model's
    VALUE that cut an amount, a particle or markup at a span's edge), each with what it was.
    """

    entities: list[Span]
    relations: list[Relation]
    dropped: list[dict] = field(default_factory=list)
    repaired: list[dict] = field(default_factory=list)
