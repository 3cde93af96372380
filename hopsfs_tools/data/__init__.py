"""Framework-free input plumbing shared by the TensorFlow and PyTorch adapters."""
