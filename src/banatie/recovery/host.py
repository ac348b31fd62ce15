"""Is a process certainly gone? Only answerable on the same host and pid namespace: there a pid
that no longer exists (or is a zombie) means the process died, so its work is recovered at once
instead of after the heartbeat timeout. Anything uncertain counts as alive."""

from __future__ import annotations

import os
import socket
import sys
from functools import cache
from pathlib import Path


@cache
def identity() -> str | None:
    """hostname|boot id|pid namespace, or None where that cannot be told (no fast path)."""
    if not sys.platform.startswith("linux"):
        return f"{socket.gethostname()}|{sys.platform}|-"[:300]
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return f"{socket.gethostname()}|{boot}|{namespace}"[:300]


def process_gone(pid: int) -> bool:
    """True only when the pid certainly names no live process in this namespace."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: it exists
        return False
    if not sys.platform.startswith("linux"):
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True  # exited between the two looks
    except OSError:
        return False
    fields = stat.rpartition(")")[2].split()
    return bool(fields) and fields[0] in ("Z", "X")  # killed, not yet reaped by its parent


def certainly_dead(host: str | None, pid: int, *, worker_id: str, me: str | None) -> bool:
    """A worker row on this host whose process is gone, or that claims our own pid."""
    here = identity()
    if host is None or here is None or host != here or worker_id == me:
        return False
    # Our pid is ours: a row with it and another id was left by an earlier process.
    return pid == os.getpid() or process_gone(pid)
