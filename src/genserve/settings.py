"""The one typed Settings object; the only module that reads the environment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Server settings. Environment variables are GENSERVE_<FIELD>; CLI flags and the config file override them."""

    model_config = SettingsConfigDict(env_prefix="GENSERVE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path.home() / ".genserve"
    config: Path | None = None
    # Comma-separated in the environment (GENSERVE_API_KEYS=a,b). Empty means any key is accepted.
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # scheme://host[:port] clients reach this server at, for the URLs it hands out (uploads, file URIs) when it sits
    # behind a proxy. Unset: the address of the socket the client connected to; a Host header only when it names that
    # same socket (api/public_url.py), so a forged one is never handed back.
    public_url: str | None = None
    # Slow clients held a connection and a handler forever: a request's headers must arrive within header_timeout_s
    # of its first byte (a connection that sends nothing is closed after as long), and its body may pause at most
    # body_timeout_s between two reads; otherwise it gets 408 and the connection closes (api/http_server.py). Gaps,
    # not totals: a large upload that keeps sending is never cut.
    header_timeout_s: float = Field(default=10.0, gt=0)
    body_timeout_s: float = Field(default=30.0, gt=0)
    # The Gemini API refuses request bodies over 20 MB.
    max_request_bytes: int = 20 * 1024 * 1024
    # Files API (wire.md §6). Uploaded files live 48 hours, as in the Gemini API.
    files_ttl_hours: float = 48.0
    files_max_bytes: int = 2 * 1024**3
    files_quota_bytes: int = 20 * 1024**3  # total per API key
    files_max_count: int = 10_000  # per API key
    files_sweep_interval_s: float = 60.0
    # Content credentials (C2PA) on generated media: a PEM certificate chain (leaf first) and its private key.
    # Unset: a local development CA and signing certificate are created under data_dir/provenance on first use.
    provenance_cert: Path | None = None
    provenance_key: Path | None = None
    # Image prompts containing any of these terms (case-insensitive, whole words) are blocked.
    image_blocklist: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Weights the loaded models may hold together, in GiB; loading past it unloads the least recently used idle
    # model first. 0: no limit.
    model_memory_gib: float = 0.0
    # Generated videos (files with source GENERATED) and finished operations are kept this long, as Google does.
    generated_files_ttl_hours: float = 48.0
    # Long-running jobs (video generation) running at once across all models; each model also has its own
    # max_concurrent_jobs in the catalog.
    operation_workers: int = 4
    # Run those jobs in a worker process of their own (niced below request handling), so that a crowd of polls and
    # a running job do not share one GIL. false: on the server's event loop (tests with a fake clock do this).
    operation_process: bool = True
    # One log line per request (uvicorn's access log). Off by default: for a crowd polling operations it is a third
    # of the server's CPU per poll (benchmarks/video_generation.py). Errors and job events are logged either way.
    access_log: bool = False

    @field_validator("public_url")
    @classmethod
    def _origin_only(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"https?://[^/?#@\s]+/?", value):
            raise ValueError(f"public_url must be scheme://host[:port] with no path, got {value!r}")
        return value

    @field_validator("api_keys", "image_blocklist", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value
