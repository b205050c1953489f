"""Plugins: a Python file or module that registers your own optimizer (or anything else).

``--plugin my_optimizers.py`` (or ``--plugin mypackage.optimizers``) on
``train``, ``compare``, ``trajectories`` and ``study``, and ``plugins = [...]``
in a sweep TOML, import it before anything is checked. A plugin is part of a
run's configuration: its name and the SHA-256 of its source go into the run's
identity, and every worker (a spawned process, a Dask worker on another machine)
imports it before it builds the run. A file plugin travels with the work as its
source text, so the worker needs no copy of the file; a module plugin must be
installed where the worker runs, and the same version (same SHA-256), or the
run fails with a message that says so.

A file is imported under a private module name (``optimlab_plugin_<sha>``), so a
file named like a standard module (``json.py``) never replaces that module, and
importing the same source twice in one process is a no-op.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class PluginError(ValueError):
    """A plugin that cannot be found, read or imported (the message says which and why)."""


@dataclass(frozen=True)
class Plugin:
    """One plugin as a run records it.

    Attributes
    ----------
    name : str
        The file's name (``my_optimizers.py``) or the module's dotted name.
    sha256 : str
        Of the file's bytes (for a module: of its source file; ``""`` when it has none).
    kind : {"file", "module"}
    path : str
        Where the coordinator found it (not part of the run's identity).
    """

    name: str
    sha256: str
    kind: str
    path: str = ""

    def record(self) -> dict[str, str]:
        """What a run's configuration holds: name, kind and SHA-256 (not the path)."""
        return {"name": self.name, "kind": self.kind, "sha256": self.sha256}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Plugin:
        return cls(str(record["name"]), str(record["sha256"]), str(record["kind"]))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def find(source: str | os.PathLike[str], base: str | os.PathLike[str] | None = None) -> Plugin:
    """The plugin ``source``: a ``.py`` file (relative to ``base`` if given) or a module name.

    Finding a module imports it (its file is what gets hashed).
    """
    text = os.fspath(source)
    if text.endswith(".py") or os.sep in text or "/" in text:
        path = Path(text)
        if base is not None and not path.is_absolute():
            path = Path(base) / path
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise PluginError(
                f"--plugin {text}: cannot be read ({exc.strerror or exc}); expected a Python "
                "file or an importable module name"
            ) from exc
        return Plugin(path.name, _digest(data), "file", str(path.resolve()))
    module = _import_module(text)
    file = getattr(module, "__file__", None)
    sha = _digest(Path(file).read_bytes()) if file else ""
    return Plugin(text, sha, "module", file or "")


def sources(plugins: Iterable[Plugin]) -> dict[str, str]:
    """``{sha256: source text}`` of the file plugins, to ship with the work."""
    found = {}
    for plugin in plugins:
        if plugin.kind == "file":
            found[plugin.sha256] = Path(plugin.path).read_text(encoding="utf-8")
    return found


def load(plugins: Iterable[Plugin], texts: Mapping[str, str] | None = None) -> None:
    """Import every plugin once per process (a second call with the same ones does nothing).

    A file plugin is executed from ``texts[sha256]`` when given (a worker),
    else from its ``path``; either must hash to the recorded SHA-256.
    """
    for plugin in plugins:
        if plugin.kind == "module":
            module = _import_module(plugin.name)
            file = getattr(module, "__file__", None)
            found = _digest(Path(file).read_bytes()) if file else ""
            if found != plugin.sha256:
                raise PluginError(
                    f"plugin {plugin.name}: the module here (sha256 {found[:12] or 'none'}) "
                    f"differs from the one the run was configured with ({plugin.sha256[:12]}); "
                    "install the same version"
                )
            continue
        module_name = f"optimlab_plugin_{plugin.sha256[:16]}"
        if module_name in sys.modules:
            continue
        text = (texts or {}).get(plugin.sha256)
        if text is None:
            try:
                text = Path(plugin.path).read_text(encoding="utf-8") if plugin.path else None
            except OSError:
                text = None
        if text is None or _digest(text.encode("utf-8")) != plugin.sha256:
            raise PluginError(
                f"plugin {plugin.name} (sha256 {plugin.sha256[:12]}) cannot be imported here: "
                "its source was not shipped with the run and no file with that content is at "
                f"{plugin.path or 'a known path'}"
            )
        _exec(module_name, plugin.name, text)


def _exec(module_name: str, filename: str, text: str) -> None:
    spec = importlib.util.spec_from_loader(module_name, loader=None, origin=filename)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__file__ = filename
    sys.modules[module_name] = module
    try:
        exec(compile(text, filename, "exec"), module.__dict__)
    except Exception as exc:
        del sys.modules[module_name]
        raise PluginError(
            f"plugin {filename}: importing it failed with {type(exc).__name__}: {exc}"
        ) from exc


def _import_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise PluginError(
            f"--plugin {name}: no module named {exc.name!r} (a file plugin ends in .py)"
        ) from exc
    except Exception as exc:
        raise PluginError(
            f"--plugin {name}: importing it failed with {type(exc).__name__}: {exc}"
        ) from exc
