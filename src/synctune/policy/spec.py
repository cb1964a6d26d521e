"""Strategy specs: the short strings the simulator, sweeps and CLI use to name a strategy."""

from __future__ import annotations

import random
from collections.abc import Callable

from synctune.policy import _check
from synctune.policy.adaptive import Adaptive
from synctune.policy.announced import Announced
from synctune.policy.any_of import AnyOf
from synctune.policy.budgeted import Budgeted
from synctune.policy.errors import InvalidInput, InvalidType
from synctune.policy.from_settings import from_settings
from synctune.policy.manual import Manual
from synctune.policy.on_write import OnWrite
from synctune.policy.periodic import Periodic
from synctune.policy.presets import PRESETS
from synctune.policy.read_wait import ReadWait
from synctune.policy.seed_rule_strategy import SeedRule
from synctune.policy.strategy import SyncStrategy
from synctune.policy.watcher import Watcher

#: the spec forms with what each builds, for ``--help`` texts
STRATEGY_SPECS: tuple[tuple[str, str], ...] = (
    ("periodic:SECONDS", "sync every SECONDS after the previous attempt (e.g. periodic:60)"),
    ("on-write", "sync right after local writes"),
    ("manual", "sync only when the app asks"),
    ("seed-rule", "the guide's adjustSyncInterval rule on measured inputs"),
    ("adaptive[:STALE_SHARE]", "tuner keeping reads older than the freshness target under "
                               "STALE_SHARE (default 0.01)"),
    ("budgeted[:STALE_SHARE]", "read-aware tuner spending a stale-read budget (STALE_SHARE of "
                               "each hour's reads, default 0.01) where it saves the most syncs"),
    ("read-wait:SECONDS", "bounded-staleness reads: a read the replica cannot vouch for "
                          "within the freshness target waits up to SECONDS for a pull "
                          "(combine it: budgeted+read-wait:1)"),
    ("announced[+FALLBACK]", "pull when a commit is announced, before it is D old; the parts "
                             "after it are its fallback while the channel is down (default "
                             "budgeted: announced = announced+budgeted)"),
    ("watcher[:long-poll]", "the watcher's cadence: pull so every announced replica keeps D "
                            "(long-poll: re-arm a held pull as it returns)"),
    ("preset:NAME", f"a preset's settings ({', '.join(PRESETS)})"),
    ("A+B", "several of the above at once; the earliest due time wins (periodic:60+on-write)"),
)


def strategy_forms() -> str:
    """One line listing the valid spec forms, for error messages and ``--help``."""
    return ", ".join(form for form, _ in STRATEGY_SPECS)


def _bad(spec: str, why: str) -> InvalidInput:
    return InvalidInput(f"strategy {spec!r}: {why}; valid forms: {strategy_forms()}")


def _number(spec: str, part: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise _bad(spec, f"{part!r} needs a number after ':', got {text!r}") from None


def _built(spec: str, make: Callable[[], SyncStrategy]) -> SyncStrategy:
    """``make()``, its bad values reported against the spec that asked for them."""
    try:
        return make()
    except (TypeError, ValueError) as exc:
        raise _bad(spec, str(exc)) from None


def _one(spec: str, part: str, freshness: float, rng: random.Random | None,
         bool_pulls: bool) -> SyncStrategy:
    kind, sep, arg = part.partition(":")
    if kind == "oracle":
        raise _bad(spec, "'oracle' needs the workload's future and is run by the simulator "
                         "itself, not built here")
    if kind == "periodic":
        if not sep:
            raise _bad(spec, "'periodic' needs its interval, e.g. periodic:60")
        interval = _number(spec, part, arg)
        return _built(spec, lambda: Periodic(interval))
    if kind == "read-wait":
        if not sep:
            raise _bad(spec, "'read-wait' needs the longest wait of a read in seconds, "
                             "e.g. read-wait:1")
        wait = _number(spec, part, arg)
        return _built(spec, lambda: ReadWait(freshness, wait, rng=rng))
    if kind in ("adaptive", "budgeted"):
        share = _number(spec, part, arg) if sep else 0.01
        if kind == "budgeted":
            return _built(spec, lambda: Budgeted(freshness, stale_share=share, rng=rng,
                                                 bool_pulls=bool_pulls))
        return _built(spec, lambda: Adaptive(freshness, stale_share=share, rng=rng,
                                             bool_pulls=bool_pulls))
    if kind == "preset":
        if arg not in PRESETS:
            raise _bad(spec, f"unknown preset {arg!r} (known: {', '.join(PRESETS)})")
        settings = PRESETS[arg].settings
        # the development preset has no remote: nothing ever triggers a sync on its own
        return Manual() if settings is None else from_settings(settings, rng=rng)
    if kind == "watcher":
        if sep and arg != "long-poll":
            raise _bad(spec, f"'watcher' takes only ':long-poll', got {arg!r}")
        return Watcher(freshness, long_poll=bool(sep), rng=rng, bool_pulls=bool_pulls)
    simple: dict[str, Callable[[], SyncStrategy]] = {
        "on-write": lambda: OnWrite(rng=rng), "manual": Manual,
        "seed-rule": lambda: SeedRule(freshness, rng=rng)}
    if kind in simple and not sep:
        return simple[kind]()
    if kind in simple:
        raise _bad(spec, f"{kind!r} takes no argument")
    raise _bad(spec, f"unknown strategy {part!r}")


def strategy_from_spec(spec: str, freshness: float, *, rng: random.Random | None = None,
                       bool_pulls: bool = True) -> SyncStrategy:
    """Build the strategy a spec names.

    Args:
        spec: e.g. ``periodic:60``, ``on-write``, ``manual``, ``seed-rule``, ``adaptive``,
            ``adaptive:0.05``, ``read-wait:1``, ``preset:production`` or a ``+``
            combination such as ``periodic:60+on-write`` or ``budgeted+read-wait:1``.
        freshness: the freshness target D in seconds (> 0), used by ``seed-rule``,
            ``adaptive``, ``budgeted`` and ``read-wait``.
        rng: random source for jitter, shared by all parts.
        bool_pulls: the tuners (``adaptive``, ``budgeted``, ``watcher``) read each pull as
            changed or not (default), as pyturso and libsql report them; False: they plan with
            counted changes (counting drivers only).

    Raises:
        ValueError: naming ``strategy``, the spec and the valid forms.
        TypeError: if ``spec`` is not a string.
    """
    if not isinstance(spec, str):
        raise InvalidType(f"strategy must be a string spec, got {spec!r} ({type(spec).__name__})")
    _check.real("freshness", freshness, minimum=0.0, strict=True)
    if rng is not None and not isinstance(rng, random.Random):
        raise InvalidType(f"rng must be a random.Random, got {rng!r}")
    parts = [p.strip() for p in spec.strip().split("+")]
    if not spec.strip() or any(not p for p in parts):
        raise _bad(spec, "empty part")
    _check.flag("bool_pulls", bool_pulls)
    if "announced" in parts:
        return _announced(spec, parts, freshness, rng, bool_pulls)
    built = [_one(spec, p, freshness, rng, bool_pulls) for p in parts]
    return built[0] if len(built) == 1 else AnyOf(*built)


def _announced(spec: str, parts: list[str], freshness: float, rng: random.Random | None,
               bool_pulls: bool) -> SyncStrategy:
    """``announced`` first, the parts after it its fallback (``budgeted`` when none)."""
    if parts[0] != "announced" or parts.count("announced") > 1:
        raise _bad(spec, "'announced' comes first, once; the parts after it are its fallback")
    rest = [_one(spec, p, freshness, rng, bool_pulls) for p in parts[1:]] or [
        _one(spec, "budgeted", freshness, rng, bool_pulls)]
    fallback = rest[0] if len(rest) == 1 else AnyOf(*rest)
    return _built(spec, lambda: Announced(freshness, fallback, rng=rng))
