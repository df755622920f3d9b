"""Engines turn text into entities and relations; the pipeline turns those into facts.

An engine has a `name` and `predict(text, sentences=None) -> Prediction` (`sentences`: the
text's sentences as split by the pipeline, so that no stage splits them again). Engines are
found by name in a registry: the built-in `rules` and `model`, plus any a user registers
with `register_engine`. `load_engine` is the one way to build one; `DEFAULT_ENGINE` is the
one place that names the default.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Protocol, Sequence

from .prediction import Prediction
from .sentences import Sentence

#: the engine used when none is named (when no model is installed: "rules")
DEFAULT_ENGINE = "model"
#: the built-in engines (what the command line offers)
ENGINE_NAMES = ("rules", "model")
MODEL_ENV = "FAZHI_IE_MODEL"
ENGINE_ENV = "FAZHI_IE_ENGINE"


class Engine(Protocol):
    name: str

    def predict(self, text: str, sentences: Sequence[Sentence] | None = None) -> Prediction: ...


class ModelNotInstalledError(RuntimeError):
    """Raised when the model engine is asked for but no trained model is available."""


#: name -> factory(model_path) for engines registered by users (the built-ins are below)
_REGISTRY: dict[str, Callable[[str | Path | None], Engine]] = {}


def register_engine(name: str, factory: Callable[[str | Path | None], Engine]) -> None:
    """Make `fazhi_ie.load(engine=name)` and `load_engine(name)` build an engine with
    `factory(model_path)`. Built-in names cannot be replaced."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"an engine name must be a non-empty string, got {name!r}")
    if name in ENGINE_NAMES:
        raise ValueError(f"{name!r} is a built-in engine; register yours under another name")
    if not callable(factory):
        raise TypeError(f"the factory for engine {name!r} must be callable, got {type(factory).__name__}")
    _REGISTRY[name] = factory


def engine_names() -> tuple[str, ...]:
    """Every engine name `load_engine` accepts: the built-ins, then the registered ones."""
    return ENGINE_NAMES + tuple(sorted(_REGISTRY))


def engine_identity(engine: Engine) -> dict:
    """What output records say about the engine that made them (`meta.engine`, `meta.model`): its name and,
    for a model loaded from a directory, the model's fingerprint (None otherwise)."""
    return {"engine": engine.name, "model": getattr(engine, "fingerprint", None)}


def default_model_path() -> Path | None:
    """The model directory named by $FAZHI_IE_MODEL, or the bundled one, if present."""
    env = os.environ.get(MODEL_ENV)
    if env:
        return Path(env)
    bundled = Path(__file__).parent / "models" / "default"
    return bundled if (bundled / "config.json").exists() else None


def default_engine_name() -> str:
    """The engine used when none is named: $FAZHI_IE_ENGINE if set, else DEFAULT_ENGINE when a
    model is installed (the package ships one), else 'rules'.

    The shipped model (its README.md, the model card) scores above the rule engine on reports it
    never saw; the rule engine is much faster: `--engine rules` or FAZHI_IE_ENGINE=rules picks it.
    """
    name = os.environ.get(ENGINE_ENV)
    if name:
        if name not in engine_names():
            raise ValueError(f"${ENGINE_ENV}={name!r}; valid engines: {', '.join(engine_names())}")
        return name
    if DEFAULT_ENGINE == "model" and default_model_path() is None:
        return "rules"
    return DEFAULT_ENGINE


def load_engine(name: str | None = None, model_path: str | Path | None = None) -> Engine:
    """Build the engine called `name` (default: `default_engine_name()`).

    `model_path` is the model directory of the 'model' engine (default: $FAZHI_IE_MODEL or the
    shipped model); the rule engine it may read is built here and passed in.
    """
    name = default_engine_name() if name is None else name
    if name == "rules":
        if model_path is not None:
            raise ValueError(f"a model directory ({model_path}) was given, but the rules engine uses none; "
                             "drop --model, or use --engine model")
        from .rules import RuleEngine

        return RuleEngine()
    if name == "model":
        path = Path(model_path) if model_path else default_model_path()
        if path is None:
            raise ModelNotInstalledError(
                "no trained model is installed (the package's fazhi_ie/models/default is missing). "
                f"Use --engine rules, or point --model / ${MODEL_ENV} at a trained model directory.")
        from .neural import ModelDirectoryError, ModelEngine

        try:
            return ModelEngine.from_pretrained(path)
        except ModelDirectoryError as exc:
            raise ModelNotInstalledError(str(exc)) from None
    if name in _REGISTRY:
        return _REGISTRY[name](model_path)
    raise ValueError(f"unknown engine {name!r}; valid engines: {', '.join(engine_names())}")
