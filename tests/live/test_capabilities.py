"""Each adapter's capabilities record says what it answers: a capability is declared exactly
when the adapter overrides the optional call it stands for, and the controller asks the record."""

from __future__ import annotations

from pathlib import Path

import pytest

from synctune.live import FakeReplica, ManualTimer, Replica
from synctune.live.control.telemetry import engine_pull_unix
from synctune.live.replica.base import Capabilities, PullResult, PushResult
from synctune.live.replica.libsql import LibsqlReplica
from synctune.live.replica.local import LocalReplica
from synctune.live.replica.remote import RemoteReplica
from synctune.live.replica.turso import adapter as turso_adapter

#: capability -> the optional member it stands for
_STANDS_FOR = {"counts_unpushed": "pending_changes", "reports_pull_time": "last_pull_unix_time",
               "cuts_short": "cut_short", "pushes_in_batches": "unconfirmed_batches"}


def _declared_matches_overridden(cls: type[Replica], caps: Capabilities) -> dict[str, bool]:
    """Capabilities whose flag disagrees with whether ``cls`` overrides its member."""
    return {cap: getattr(caps, cap) for cap, member in _STANDS_FOR.items()
            if getattr(caps, cap) != (getattr(cls, member) is not getattr(Replica, member))}


def _bare(cls: type[Replica], **attrs: object) -> Replica:
    """An adapter object without opening anything (enough to read its capabilities)."""
    obj = cls.__new__(cls)
    for name, value in attrs.items():
        setattr(obj, name, value)
    return obj


@pytest.mark.parametrize(("replica", "syncs"), [
    (FakeReplica(timer=ManualTimer()), True),
    (_bare(LocalReplica), False),
    (_bare(RemoteReplica), False),
    (_bare(LibsqlReplica, url=None, offline=False), False),
    (_bare(LibsqlReplica, url="http://primary.invalid", offline=False), True),
    (_bare(turso_adapter.TursoReplica), True),
], ids=["fake", "local", "remote", "libsql-file", "libsql-synced", "turso"])
def test_each_adapter_declares_what_it_overrides(replica: Replica, syncs: bool) -> None:
    caps = replica.capabilities
    assert _declared_matches_overridden(type(replica), caps) == {}
    assert replica.syncs is caps.syncs is syncs


def test_the_check_sees_a_capability_declared_but_not_answered() -> None:
    class Claims(FakeReplica):
        @property
        def capabilities(self) -> Capabilities:
            return Capabilities(counts_unpushed=True, reports_pull_time=True)

    assert _declared_matches_overridden(Claims, Claims().capabilities) == {
        "reports_pull_time": True}


def test_only_a_synced_libsql_replica_delegates_its_writes() -> None:
    synced = _bare(LibsqlReplica, url="http://primary.invalid", offline=False)
    offline = _bare(LibsqlReplica, url="http://primary.invalid", offline=True)
    assert (synced.writes_delegated, offline.writes_delegated) == (True, False)


class _Recorded(Replica):
    """A replica whose engine recorded a pull at ``when`` and may or may not say it can."""

    def __init__(self, when: float, declared: bool) -> None:
        self.when, self.declared = when, declared

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(reports_pull_time=self.declared)

    def last_pull_unix_time(self) -> float | None:
        return self.when

    def pull(self, timeout: float) -> PullResult:
        return PullResult()

    def push(self, timeout: float) -> PushResult:
        return PushResult()

    def local_db_size(self) -> int:
        return 0

    def connect(self) -> object:
        raise NotImplementedError

    def close(self) -> None:
        pass


def test_the_engine_pull_time_is_read_only_from_an_adapter_that_declares_it(
        tmp_path: Path) -> None:
    assert engine_pull_unix(_Recorded(1_700_000_000.0, declared=True)) == 1_700_000_000.0
    assert engine_pull_unix(_Recorded(1_700_000_000.0, declared=False)) is None
    assert engine_pull_unix(LocalReplica(tmp_path / "plain.db")) is None
