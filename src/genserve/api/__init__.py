"""HTTP: routes, auth, streaming encoders and error rendering; the only package that imports FastAPI."""
