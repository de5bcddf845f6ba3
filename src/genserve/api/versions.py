"""The API versions served.

The SDKs pick the version: v1 (google-genai >= 3, @google/genai 3), v1beta (older SDKs, gemini-cli),
v1alpha (opt-in). All three are served identically (wire.md §0.1)."""

API_VERSIONS = ("v1beta", "v1", "v1alpha")
