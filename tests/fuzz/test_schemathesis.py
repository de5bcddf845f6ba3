"""Schemathesis over the server's own /openapi.json: no generated request may answer 5xx or log a server error."""

# On a real socket rather than in-process: a 500 that escapes the app makes uvicorn drop the connection, and the
# next request on the pooled connection failing is exactly what clients saw (issue 14). Bounded for the test
# command: the Gemini API's own paths (/v1beta), Vertex AI's project paths and uploads, a fixed number of
# derandomized examples per operation, model names drawn from the catalog and a document steered towards valid
# bodies (`focused`) so that they reach the converters and engines (the fast scripted engines and the demo's real
# embedding model). Failures are collected, not raised, so
# that one run lists them all and Hypothesis spends no time shrinking.

from collections import Counter
from dataclasses import dataclass, field

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from genserve.core.catalog import Catalog
from tests.conftest import SCRIPTED, LiveServer, make_settings
from tests.fuzz.oracle import ErrorLog, problems_with

pytestmark = pytest.mark.live

KEY = "k1"
MODELS = ["scripted", "scripted-tools", "text-embedding-004", "no-such-model"]
# Each route mostly with the models that serve it, so that bodies get past the model check.
ROUTE_MODELS = {
    ":generateContent": ["scripted", "scripted-tools", "no-such-model"],
    ":streamGenerateContent": ["scripted", "scripted-tools", "no-such-model"],
    ":embedContent": ["text-embedding-004", "no-such-model"],
    ":batchEmbedContents": ["text-embedding-004", "no-such-model"],
}
PATHS = r"^/(v1beta/|v1/projects/|upload/)"
SETTINGS = settings(
    max_examples=16,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: nothing is raised inside the run
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def server(catalog, tmp_path_factory):
    entries = SCRIPTED + [catalog.get("text-embedding-004")]
    settings_ = make_settings(tmp_path_factory.mktemp("fuzz"), api_keys=[KEY])
    with LiveServer(settings_, Catalog(entries)) as live:
        yield live


def focused(doc: dict) -> dict:
    """The server's document, steered so that valid examples reach the engines rather than stop at the first check:
    no unknown fields (the server ignores them; negative examples still send them), contents of text parts in a
    role the server knows, and tools that are function declarations (schemas of typed parameters)."""
    schemas = doc["components"]["schemas"]
    for schema in schemas.values():
        if schema.get("type") == "object" and "properties" in schema:
            schema["additionalProperties"] = False
    for request in ("GenerateContentRequest", "CountTokensRequest"):
        fields = schemas[request]["properties"]
        schemas[request]["required"] = ["contents"]
        fields["contents"] = {"type": "array", "minItems": 1, "items": ref("Content")}
        fields.pop("cachedContent", None)  # no scripted model caches
    schemas["GenerateContentRequest"]["properties"].update(tools=array(TOOL), toolConfig=TOOL_CONFIG)
    schemas["Content"] = closed({"role": {"enum": ["user", "model"]}, "parts": array(ref("Part"))}, "parts")
    schemas["Part"] = closed({"text": {"type": "string"}}, "text")
    return doc


def closed(properties: dict, *required: str) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


def array(items: dict) -> dict:
    return {"type": "array", "minItems": 1, "maxItems": 3, "items": items}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


TYPES = ["STRING", "INTEGER", "NUMBER", "BOOLEAN", "ARRAY", "OBJECT"]
PARAMETER = closed(
    {"type": {"enum": TYPES}, "description": {"type": "string"}, "enum": array({"type": "string"})}, "type"
)
PARAMETERS = closed(
    {
        "type": {"enum": ["OBJECT"]},
        "properties": {"type": "object", "maxProperties": 4, "additionalProperties": PARAMETER},
        "required": {"type": "array", "items": {"type": "string"}},
    },
    "type",
)
FUNCTION = closed(
    {"name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,20}$"}, "description": {"type": "string"},
     "parameters": PARAMETERS},
    "name",
)  # fmt: skip
TOOL = closed({"functionDeclarations": array(FUNCTION)}, "functionDeclarations")
TOOL_CONFIG = closed({"functionCallingConfig": closed({"mode": {"enum": ["AUTO", "ANY", "NONE", "VALIDATED"]}})})


def test_no_generated_request_answers_a_server_error(server):
    doc = requests.get(f"{server.url}/openapi.json", timeout=30).json()
    api = schemathesis.openapi.from_dict(focused(doc))
    tally = Tally()
    # One pooled connection: a response that drops it shows up as a reset on the next request.
    with requests.Session() as session, ErrorLog() as log:
        for result in api.include(path_regex=PATHS).get_all_operations():
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                fuzz(operation, mode, server.url, session, tally)
    statuses = tally.statuses
    print(
        f"schemathesis: {statuses.total()} requests, statuses {dict(sorted(statuses.items()))}, {tally.answers} answers"
    )
    failures = tally.problems + [f"server log: {line}" for line in log.lines()]
    assert not failures, "\n".join(failures)
    assert tally.answers > 40 and statuses[400] > 200  # bodies reached the engines and the checks, many times


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    answers: int = 0  # 200s from model routes: bodies that reached an engine
    problems: list[str] = field(default_factory=list)


def fuzz(operation, mode: GenerationMode, url: str, session: requests.Session, tally: Tally) -> None:
    # One strategy per operation and mode (building one is what costs time); the model varies per example.
    names = next((m for end, m in ROUTE_MODELS.items() if operation.path.endswith(end)), MODELS)
    models = st.sampled_from(names) if "{model}" in operation.path else st.none()

    @SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode), model=models)
    def run(case, model):
        if model is not None:
            case.path_parameters["model"] = model
        what = f"{mode.value} {case.method} {case.formatted_path} query={case.query} body={case.body!r:.300}"
        try:
            response = case.call(url, session, headers={"x-goog-api-key": KEY}, timeout=30)
        except requests.RequestException as exc:
            tally.problems.append(f"{what}: {type(exc).__name__}: {exc}")
            return
        tally.statuses[response.status_code] += 1
        tally.answers += response.status_code == 200 and case.method == "POST" and "/models/" in case.path
        found = problems_with(response.status_code, response.headers.get("content-type", ""), response.content)
        tally.problems.extend(f"{what}: {problem}" for problem in found)

    try:
        run()
    except Unsatisfiable:  # nothing in this operation can be made invalid (a GET without parameters)
        assert mode is GenerationMode.NEGATIVE
