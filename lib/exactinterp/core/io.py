"""File I/O shared by datasets and models: exact JSON reading and atomic writes."""

from __future__ import annotations

import json
import os
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import InputError
from .numbers import NonFinite

__all__ = ["load_json_exact", "atomic_write_text", "write_json", "MAX_JSON_BYTES"]

#: Largest JSON file accepted (bytes); larger inputs are refused with a clear message.
MAX_JSON_BYTES = 512 * 2**20


def load_json_exact(path_or_text: str | os.PathLike | bytes, what: str = "input") -> Any:
    """Parse JSON with decimal literals kept exact (Decimal).

    ``NaN`` and ``Infinity`` literals become :class:`~exactinterp.core.numbers.NonFinite` markers,
    which every number reader refuses with the place where they stand.
    """
    if isinstance(path_or_text, (str, os.PathLike)) and not str(path_or_text).lstrip().startswith(("{", "[")):
        path = Path(path_or_text)
        try:
            size = path.stat().st_size
            if size > MAX_JSON_BYTES:
                raise InputError(f"{what} file {path} is too large ({size} bytes)")
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(f"{what} file not found: {path}") from None
        except IsADirectoryError:
            raise InputError(f"{what} path is a directory: {path}") from None
        except PermissionError:
            raise InputError(f"{what} file is not readable: {path}") from None
        except UnicodeDecodeError:
            raise InputError(f"{what} file is not UTF-8 text: {path}") from None
        except OSError as exc:
            raise InputError(f"cannot read {what} file {path}: {exc.strerror or exc}") from None
    else:
        text = path_or_text.decode() if isinstance(path_or_text, bytes) else str(path_or_text)
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=NonFinite)
    except json.JSONDecodeError as exc:
        raise InputError(f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise InputError(f"{what} JSON is nested too deeply") from None
    except InputError:
        raise
    except ValueError as exc:  # e.g. integer literal with too many digits
        raise InputError(f"{what} JSON holds an unreadable number: {str(exc)[:120]}") from None


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write a file atomically (temporary file + rename): never leave a partial file behind.

    Errors are raised as ``OSError`` naming ``path`` (not the temporary file); the new file gets
    the usual permissions (0666 minus the umask), not the temporary file's 0600.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(21, "Is a directory", str(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.")
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise


def write_json(obj: Any, path: str | os.PathLike | None = None) -> str:
    """Compact JSON text of ``obj`` (one line); written atomically to ``path`` if given."""
    text = json.dumps(obj, separators=(",", ":")) + "\n"
    if path is not None:
        atomic_write_text(path, text)
    return text
