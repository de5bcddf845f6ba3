"""Domain types and services: no web, wire or engine imports."""
