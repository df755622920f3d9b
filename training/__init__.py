"""Training-side tools (model conversion, training scripts); never imported by `fazhi_ie`."""
