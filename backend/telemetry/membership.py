"""Client ids for the members of `ingest --shared-group`: one each, the same after a restart.

Mosquitto keeps a stopped member's share of the stream queued in that member's
session, so a member must come back under the client id it had, and two running
members must never use the same one (each connect would take the other's session).

Members on one host claim the lowest free slot N, client id MQTT_CLIENT_ID-N, by
holding an exclusive flock on a per-slot file in INGEST_RUNTIME_DIR. The kernel
drops the lock when the process dies, even on SIGKILL, so a restarted member finds
its slot, and its queued share, free again. The file descriptor is not inherited by
the spawned writer process, which therefore cannot keep a dead member's slot.

The host name is deliberately not part of the id: a container gets a new one when
it is recreated, and the old id's queue would be stranded. Members on several hosts
(or containers without a shared runtime folder) need distinct ids: set
INGEST_MEMBER_ID on each, or give each host its own MQTT_CLIENT_ID.
"""
import fcntl
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

MAX_SLOTS = 1000
MEMBER_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class MembershipError(Exception):
    """No client id could be claimed."""


@dataclass
class Membership:
    """A claimed client id, held until `release()` or the end of the process."""

    client_id: str
    slot: int | None
    lock_fd: int

    def release(self) -> None:
        """Give the client id up (closing the file drops the lock)."""
        if self.lock_fd >= 0:
            os.close(self.lock_fd)
            self.lock_fd = -1


def _try_lock(runtime_dir: Path, client_id: str) -> int | None:
    """An open, exclusively locked descriptor of the client id's lock file, or None if another holds it."""
    path = runtime_dir / f"{quote(client_id, safe='')}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def claim_member_id(base_client_id: str, runtime_dir: Path, member_id: str = "") -> Membership:
    """This member's client id: f"{base}-{member_id}" if given, else f"{base}-{lowest free slot}"."""
    runtime_dir = Path(runtime_dir)
    runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if member_id:
        if not MEMBER_ID_PATTERN.fullmatch(member_id):
            raise MembershipError("INGEST_MEMBER_ID must be 1-64 letters, digits, '.', '_' or '-'")
        client_id = f"{base_client_id}-{member_id}"
        fd = _try_lock(runtime_dir, client_id)
        if fd is None:
            raise MembershipError(f"another ingest on this host already runs as client id {client_id!r}")
        return Membership(client_id, None, fd)
    for slot in range(MAX_SLOTS):
        client_id = f"{base_client_id}-{slot}"
        fd = _try_lock(runtime_dir, client_id)
        if fd is not None:
            return Membership(client_id, slot, fd)
    raise MembershipError(f"all {MAX_SLOTS} member slots of {base_client_id!r} in {runtime_dir} are taken")
