"""Documents read by text models: the text layer of a PDF (no OCR, no images, no layout)."""

from __future__ import annotations

import io

from genserve.errors import InvalidArgument

PDF = "application/pdf"


def pdf_text(data: bytes, where: str) -> str:
    """The text of every page in order, pages separated by a blank line."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise InvalidArgument(f"{where}: the PDF is encrypted; send an unencrypted document.")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, OSError) as exc:
        raise InvalidArgument(f"{where}: the PDF could not be read ({exc}).") from None
    return "\n\n".join(p.strip() for p in pages if p.strip())
