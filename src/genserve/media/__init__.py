"""Media helpers: probing, encoding."""
