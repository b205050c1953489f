"""Checkpoints of a run as ``.npz`` bytes: model, optimizer state, random state, history.

No pickle anywhere: arrays go into the ``.npz``; the structure of the
optimizer's nested state (dicts, per-parameter lists, ``None`` entries,
counters) and the rest go into a JSON document stored beside them. A run's
checkpoint records whose it is (``run_id`` and ``config_digest``), so that a
file copied from another run is never taken as this one's.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from optimlab.optim.base import PerParam

FORMAT_VERSION = 1


def _flatten(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    """A JSON skeleton of ``obj``; its arrays moved into ``arrays``."""
    if isinstance(obj, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = obj
        return {"__array__": key}
    if isinstance(obj, PerParam):
        return {"__perparam__": [_flatten(v, arrays) for v in obj]}
    if isinstance(obj, dict):
        return {"__dict__": [[_flatten(k, arrays), _flatten(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_flatten(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_flatten(v, arrays) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    raise TypeError(f"checkpoint: cannot store a {type(obj).__name__} ({obj!r})")


def _unflatten(skeleton: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(skeleton, list):
        return [_unflatten(v, arrays) for v in skeleton]
    if isinstance(skeleton, dict):
        if "__array__" in skeleton:
            return arrays[skeleton["__array__"]]
        if "__perparam__" in skeleton:
            return PerParam(_unflatten(v, arrays) for v in skeleton["__perparam__"])
        if "__tuple__" in skeleton:
            return tuple(_unflatten(v, arrays) for v in skeleton["__tuple__"])
        return {_unflatten(k, arrays): _unflatten(v, arrays) for k, v in skeleton["__dict__"]}
    return skeleton


def to_bytes(content: dict[str, Any]) -> bytes:
    """Serialise nested dicts/lists of arrays and plain values to ``.npz`` bytes."""
    arrays: dict[str, np.ndarray] = {}
    skeleton = _flatten(content, arrays)
    document = json.dumps({"version": FORMAT_VERSION, "content": skeleton}).encode()
    buffer = io.BytesIO()
    np.savez(buffer, __json__=np.frombuffer(document, dtype=np.uint8), **arrays)
    return buffer.getvalue()


def from_bytes(data: bytes) -> dict[str, Any]:
    """The content written by :func:`to_bytes` (``ValueError`` if it is not one)."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        document = json.loads(arrays.pop("__json__").tobytes())
    except Exception as exc:  # a truncated or foreign file: say so plainly
        raise ValueError(f"not an optimlab checkpoint ({exc})") from exc
    if document.get("version") != FORMAT_VERSION:
        raise ValueError(
            f"checkpoint format version must be {FORMAT_VERSION}; "
            f"received {document.get('version')}"
        )
    return _unflatten(document["content"], arrays)


def digest(config: Mapping[str, Any]) -> str:
    """The SHA-256 of a run configuration's canonical JSON (all 64 hex digits)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def owner(data: bytes) -> tuple[str | None, str | None]:
    """``(run_id, config_digest)`` a checkpoint records (``None`` where it records none);
    ``ValueError`` if ``data`` is not a readable checkpoint."""
    content = from_bytes(data)
    return content.get("run_id"), content.get("config_digest")
