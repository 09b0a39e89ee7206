"""Text of files typed by people: UTF-8 with stray Latin-1 bytes (Excel on Windows) must be
read, not refused, and the first stray byte located so the coordinator can check it."""

from __future__ import annotations

import codecs


def _latin1_fallback(err: UnicodeDecodeError) -> tuple[str, int]:
    # A byte that is not UTF-8 is read as Latin-1 (ISO 8859-1), which maps every byte.
    return err.object[err.start : err.end].decode("latin-1"), err.end


codecs.register_error("celltrial-latin1", _latin1_fallback)


def decode_mixed(raw: bytes) -> tuple[str, int | None]:
    """Decode UTF-8, reading invalid bytes as Latin-1; also the 1-based data row (header
    = row 0) of the first invalid byte, or None when the bytes were valid UTF-8."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    text = raw.decode("utf-8", errors="celltrial-latin1")
    return text, raw.count(b"\n", 0, first_bad)
