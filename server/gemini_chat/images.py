"""Images in replies, saved as files under the data dir."""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import os
from pathlib import Path

IMAGE_SUFFIXES = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


def save_image(data_dir: Path, mime: str, data: str) -> Path:
    """Write an image part (base64, standard or URL-safe, padded or not) under dataDir/images."""
    raw = base64.b64decode(data + "=" * (-len(data) % 4), altchars=b"-_" if "-" in data else None)
    return write_image(data_dir, mime, raw)


def write_image(data_dir: Path, mime: str, raw: bytes) -> Path:
    """Write an image's bytes under dataDir/images, named by its content; private to the user."""
    folder = data_dir / "images"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    suffix = IMAGE_SUFFIXES.get(mime) or mimetypes.guess_extension(mime) or ".bin"
    path = folder / f"{hashlib.sha256(raw).hexdigest()[:20]}{suffix}"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
    return path
