"""One coordinator per sweep folder: a lock file holding the owner's process id.

``optimlab compare`` takes ``OUT/.optimlab.lock`` before it writes anything and
removes it when it ends (also on an error or a signal). A second command on the
same OUT is refused with an error naming the holder; a lock whose process is
gone (a killed coordinator) is taken over. The lock is created with
``O_CREAT | O_EXCL``, so two commands starting at the same moment cannot both
take it.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from optimlab.experiments.store import StoreError

LOCK_NAME = ".optimlab.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process: alive
        return True
    return True


class SweepLock:
    """``with SweepLock(out):`` the caller alone coordinates the sweep in ``out``."""

    def __init__(self, out: str | os.PathLike[str]) -> None:
        self.path = Path(out) / LOCK_NAME
        self.held = False

    def __enter__(self) -> SweepLock:
        me = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        for _ in range(3):  # a stale lock removed by us (or another) is retried
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is not None and self._live(holder):
                    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder["since"]))
                    raise StoreError(
                        f"{self.path.parent} is in use by another optimlab compare (process "
                        f"{holder['pid']} on {holder['host']}, since {since}); wait for it to "
                        f"finish or stop it (its lock is {self.path})"
                    ) from None
                try:  # stale: its process is gone
                    self.path.unlink()
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(me, f)
            self.held = True
            return self
        raise StoreError(f"{self.path}: could not take the sweep's lock")

    def _holder(self) -> dict | None:
        try:
            holder = json.loads(self.path.read_text(encoding="utf-8"))
            return {"pid": int(holder["pid"]), "host": str(holder["host"]),
                    "since": float(holder["since"])}  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError):
            return None  # unreadable (a crash while it was written): stale

    @staticmethod
    def _live(holder: dict) -> bool:
        if holder["host"] != socket.gethostname():
            return True  # another machine's process: cannot tell, so respect it
        return holder["pid"] != os.getpid() and _alive(holder["pid"])

    def __exit__(self, *exc: object) -> None:
        if self.held:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
            self.held = False
