"""The API versions served.

The SDKs pick the version: v1 (google-genai >= 3, @google/genai 3), v1beta (older SDKs, gemini-cli),
v1alpha (opt-in). All three are served identically (wire.md §0.1)."""

API_VERSIONS = ("v1beta", "v1", "v1alpha")

# Vertex AI express mode (`genai.Client(vertexai=True, api_key=...)`): the newest SDKs send Imagen and Veo calls
# only this way. Models live under publishers/google, optionally inside a project and location, which are ignored.
VERTEX_VERSIONS = ("v1beta1", "v1")
VERTEX_MODEL_PREFIXES = ("/publishers/google", "/projects/{project}/locations/{location}/publishers/google")
