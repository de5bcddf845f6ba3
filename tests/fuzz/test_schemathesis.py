"""Schemathesis over the server's own /openapi.json, on a real socket: no request it generates may answer 5xx.

Bounded for the test command: the Gemini API's own paths (/v1beta) and Vertex AI's project paths, a fixed number of
derandomized examples per operation, model names drawn from the catalog so that bodies reach the converters and
engines (the fast scripted engines and the demo's real embedding model)."""

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from genserve.core.catalog import Catalog
from tests.conftest import SCRIPTED, LiveServer, make_settings

pytestmark = pytest.mark.live

KEY = "k1"
MODELS = ["scripted", "scripted-tools", "text-embedding-004", "no-such-model"]


@pytest.fixture(scope="module")
def server(catalog, tmp_path_factory):
    entries = SCRIPTED + [catalog.get("text-embedding-004")]
    settings_ = make_settings(tmp_path_factory.mktemp("fuzz"), api_keys=[KEY])
    with LiveServer(settings_, Catalog(entries)) as live:
        yield live


@pytest.fixture(scope="module")
def api(server):
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json", headers={"x-goog-api-key": KEY})


@pytest.fixture(scope="module")
def session():
    with requests.Session() as s:  # one pooled connection: an error that drops it shows up as a reset
        yield s


SETTINGS = settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def test_no_request_answers_a_server_error(api, session):
    statuses: dict[int, int] = {}
    for result in api.include(path_regex=r"^/(v1beta/|v1/projects/|upload/)").get_all_operations():
        operation = result.ok()
        names = MODELS if "{model}" in operation.path else [None]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for model in names:
                fixed = {"model": model} if model else None

                @SETTINGS
                @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed))
                def check(case):
                    response = case.call(session=session, headers={"x-goog-api-key": KEY}, timeout=60)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    assert response.status_code < 500, (case.method, case.formatted_path, case.body, response.text)
                    if response.status_code >= 400 and response.content:
                        error = response.json()["error"]
                        assert error["code"] == response.status_code and error["status"] and error["message"]

                try:
                    check()
                except Unsatisfiable:  # nothing in this operation can be made invalid (a GET without parameters)
                    assert mode is GenerationMode.NEGATIVE
    print(f"schemathesis: {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}")
    assert statuses.get(200, 0) > 25 and statuses.get(400, 0) > 200  # bodies reached the handlers, both ways
