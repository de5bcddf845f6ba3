"""Engines: one Protocol per modality, one module per engine, imported lazily through the registry."""
