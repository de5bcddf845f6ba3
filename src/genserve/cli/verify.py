"""`genserve verify FILE`: report the provenance a file carries; the exit code says whether it is genserve's."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_PROVENANCE = 0
EXIT_NONE = 1
EXIT_UNREADABLE = 2


def run_verify(args: argparse.Namespace) -> int:
    from genserve.provenance import verify_file

    try:
        anchors = _trust_anchors(args)
    except OSError as exc:
        print(f"cannot read trust anchors: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        report = verify_file(args.file, trust_anchors_pem=anchors)
    except (OSError, ValueError) as exc:
        print(f"cannot verify {args.file}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    print(f"{args.file}:")
    for line in report.lines():
        print(f"  {line}")
    return EXIT_PROVENANCE if report.carries_genserve_provenance else EXIT_NONE


def _trust_anchors(args: argparse.Namespace) -> str | None:
    if args.trust is not None:
        return args.trust.read_text()
    data_dir = args.data_dir
    if data_dir is None:
        from genserve.settings import Settings

        data_dir = Settings().data_dir
    # The dev CA of this installation, so that its own outputs show as trusted without any flag.
    ca = Path(data_dir) / "provenance" / "ca.pem"
    return ca.read_text() if ca.is_file() else None
