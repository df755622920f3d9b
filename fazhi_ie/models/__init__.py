"""Shipped model directories (config.json, model.safetensors, tokenizer.json); `default/` is
what `fazhi_ie.load()` and `fazhi-ie extract` use. Data only: nothing here is imported."""
