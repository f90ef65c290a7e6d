"""Results of long, deterministic chapter experiments, kept on disk between runs (warm builds and tests).

A result is stored under a key made of the SHA-256 of every source file of the package, the
versions of the numerical libraries, the function's qualified name and its arguments: any change
to the engine, the libraries or the call recomputes it. The cache lives in ``_build/cache`` of the
repository (gitignored; a fresh clone computes everything once). ``EXACTINTERP_NO_CACHE=1``
turns it off.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["cached", "cache_dir", "code_digest"]

T = TypeVar("T")
_PACKAGE = Path(__file__).resolve().parents[1]
_LIBRARIES = ("numpy", "jax", "jaxlib", "optax", "python-flint", "sympy")


def cache_dir() -> Path:
    """``_build/cache`` of the repository the package runs from (else ~/.cache/exactinterp)."""
    repo = _PACKAGE.parents[1]
    base = repo / "_build" if (repo / "pyproject.toml").is_file() else Path.home() / ".cache" / "exactinterp"
    return base / "cache"


def code_digest() -> str:
    """SHA-256 of every source file of the package and of the numerical libraries' versions."""
    h = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        h.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    for lib in _LIBRARIES:
        try:
            h.update(f"{lib}={importlib.metadata.version(lib)}".encode())
        except importlib.metadata.PackageNotFoundError:
            h.update(f"{lib}=absent".encode())
    return h.hexdigest()


def cached(fn: Callable[..., T], *args: Any, key: str | None = None, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)``, loaded from the cache when this exact call was computed by this exact code.

    ``key`` describes the call when ``repr`` of the arguments does not (objects without a stable repr).
    """
    if os.environ.get("EXACTINTERP_NO_CACHE"):
        return fn(*args, **kwargs)
    call = key if key is not None else repr(args) + repr(sorted(kwargs.items()))
    key = hashlib.sha256((code_digest() + f"{fn.__module__}.{fn.__qualname__}" + call).encode()).hexdigest()[:24]
    path = cache_dir() / f"{fn.__name__}-{key}.pkl"
    if path.is_file():
        with path.open("rb") as fh:
            return pickle.load(fh)
    result = fn(*args, **kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(result, fh)
    tmp.replace(path)
    return result
