"""Pure functions between wire models and domain types; every validation error names the field."""
