"""Engines turn text into entities and relations; the pipeline turns those into facts.

An engine has a `name` and `predict(text) -> Prediction`. `load_engine` is the one way
to get one by name; the valid names are in ENGINE_NAMES.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from .prediction import Prediction

ENGINE_NAMES = ("rules", "model")
MODEL_ENV = "FAZHI_IE_MODEL"


class Engine(Protocol):
    name: str

    def predict(self, text: str) -> Prediction: ...


class ModelNotInstalledError(RuntimeError):
    """Raised when the model engine is asked for but no trained model is available."""


def default_model_path() -> Path | None:
    """The model directory named by $FAZHI_IE_MODEL, or the bundled one, if present."""
    env = os.environ.get(MODEL_ENV)
    if env:
        return Path(env)
    bundled = Path(__file__).parent / "models" / "default"
    return bundled if (bundled / "config.json").exists() else None


ENGINE_ENV = "FAZHI_IE_ENGINE"


def default_engine_name() -> str:
    """The engine used when none is named: $FAZHI_IE_ENGINE if set, else 'model' when a model is
    installed (the package ships one), else 'rules'.

    The one place that decides the default of `fazhi_ie.load()` and `fazhi-ie extract`. The shipped
    model is a hybrid (MODEL_CARD.md): in leave-one-report-out cross-validation it scores at least as
    well as the rule engine on entities, relations and facts, and it adds calibrated scores. The rule
    engine is much faster; `--engine rules` or FAZHI_IE_ENGINE=rules picks it.
    """
    name = os.environ.get(ENGINE_ENV)
    if name:
        if name not in ENGINE_NAMES:
            raise ValueError(f"${ENGINE_ENV}={name!r}; valid engines: {', '.join(ENGINE_NAMES)}")
        return name
    return "model" if default_model_path() is not None else "rules"


def load_engine(name: str = "rules", model_path: str | Path | None = None) -> Engine:
    """Return the engine called `name` ('rules' or 'model')."""
    if name == "rules":
        from .rules import RuleEngine

        return RuleEngine()
    if name == "model":
        path = Path(model_path) if model_path else default_model_path()
        if path is None:
            raise ModelNotInstalledError(
                "no trained model is installed (the package's fazhi_ie/models/default is missing). "
                f"Use --engine rules, or point --model / ${MODEL_ENV} at a trained model directory.")
        from .model import ModelDirectoryError, ModelEngine

        try:
            return ModelEngine(path)
        except ModelDirectoryError as exc:
            raise ModelNotInstalledError(str(exc)) from None
    raise ValueError(f"unknown engine {name!r}; valid engines: {', '.join(ENGINE_NAMES)}")
