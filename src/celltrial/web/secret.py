"""The secret key: from CELLTRIAL_SECRET_KEY, or a file made on first start in the data
folder, readable by its owner only (never from the repository)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_FILE = "secret_key"
KEY_BYTES = 50  # Django's get_random_secret_key() makes 50 characters


def secret_key(data_dir: Path) -> str:
    given = os.environ.get("CELLTRIAL_SECRET_KEY")
    if given:
        return given
    path = data_dir / SECRET_FILE
    try:
        # O_EXCL: two processes starting at once cannot both write a key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_urlsafe(KEY_BYTES))
    return path.read_text().strip()
