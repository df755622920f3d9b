"""The rule-based engine (baseline and weak-label source)."""
from .extractor import Prediction, RuleEngine
from ..gazetteer import Gazetteer, default_gazetteer, read_gazetteer

__all__ = ["Gazetteer", "Prediction", "RuleEngine", "default_gazetteer", "read_gazetteer"]
