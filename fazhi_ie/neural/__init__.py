"""The trained extractor: a fine-tuned encoder that tags spans and scores relations.

Importing this package imports torch; `fazhi_ie.engines.load_engine("model")` does so lazily.
"""
from .config import ModelConfig, ModelDirectoryError
from .engine import ModelEngine, load_model_directory, save_model_directory

__all__ = ["ModelConfig", "ModelDirectoryError", "ModelEngine", "load_model_directory", "save_model_directory"]
