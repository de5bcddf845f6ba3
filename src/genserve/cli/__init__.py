"""The `genserve` command: one module per command group."""
