"""``check_url``: the one URL check behind ``run``, ``doctor`` and ``open_replica``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synctune import InvalidInput
from synctune.live.replica.factory import check_url

SCHEMES = st.sampled_from(["http", "https", "libsql", "turso"])
HOSTS = st.sampled_from(["127.0.0.1", "localhost", "db.example.org", "[::1]"])
# a prefix no message or host contains, so "not in the message" cannot pass or fail by chance
SECRET = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~", min_size=1,
                 max_size=20).map(lambda s: "Zq" + s)


@given(SCHEMES, HOSTS, st.integers(1, 65535))
def test_every_host_and_port_in_range_is_accepted(scheme: str, host: str, port: int) -> None:
    url = f"{scheme}://{host}:{port}/db?x=1"
    assert check_url(url) == url


@given(SCHEMES, HOSTS, st.one_of(st.integers(65536, 10**7), st.just(0)))
def test_ports_out_of_range_are_refused(scheme: str, host: str, port: int) -> None:
    with pytest.raises(InvalidInput, match=r"port must be a number in 1\.\.65535"):
        check_url(f"{scheme}://{host}:{port}")


@given(SCHEMES, HOSTS, SECRET, SECRET)
def test_credentials_in_the_url_are_refused_and_never_shown(scheme: str, host: str, user: str,
                                                            password: str) -> None:
    with pytest.raises(InvalidInput) as info:
        check_url(f"{scheme}://{user}:{password}@{host}:8080")
    assert "user:password@" in str(info.value)
    assert password not in str(info.value) and user not in str(info.value)


@pytest.mark.parametrize("url", ["http://", "https:///db", "ftp://h", "127.0.0.1:8080", ""])
def test_no_host_or_an_unknown_scheme_is_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        check_url(url)
