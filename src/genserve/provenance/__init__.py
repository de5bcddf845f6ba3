"""Provenance of generated media: C2PA content credentials, an invisible watermark, and verification of both."""

from genserve.provenance.stamp import Provenance
from genserve.provenance.verify import VerifyReport, verify_bytes, verify_file

__all__ = ["Provenance", "VerifyReport", "verify_bytes", "verify_file"]
