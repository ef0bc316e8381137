"""JSON encoding of the core's values (messages, inputs, actions, durable state) for traces and stores.

Each dataclass becomes ``{"type": ClassName, ...fields}``; enums become their value and frozensets
sorted lists. ``decode(encode(x)) == x`` for every core value.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from typing import Any

from quorum.core import messages as m

_CLASSES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        m.PeerHeartbeat,
        m.WitnessRequest,
        m.WitnessReply,
        m.MirrorWriteFailed,
        m.ResyncDone,
        m.ResyncFailed,
        m.Switchover,
        m.ForcedTakeover,
        m.Maintenance,
        m.SiteHealth,
        m.PromotionChecked,
        m.CheckPromotion,
        m.WitnessDurable,
        m.SiteDurable,
        m.Send,
        m.RoleChanged,
        m.StartResync,
        m.PersistWitness,
        m.PersistSite,
        m.Decision,
        m.Alarm,
        m.OperatorResult,
    )
}


def _plain(v: Any) -> Any:
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, frozenset):
        return sorted(_plain(x) for x in v)
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return encode(v)
    return v


def encode(value: Any) -> dict[str, Any]:
    """A JSON-ready dict for one core dataclass value."""
    out: dict[str, Any] = {"type": type(value).__name__}
    for f in dataclasses.fields(value):
        out[f.name] = _plain(getattr(value, f.name))
    return out


def _convert(tp: Any, raw: Any) -> Any:
    if raw is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if isinstance(raw, dict) and "type" in raw:
            return decode(raw)
        return _convert(args[0], raw) if len(args) == 1 else decode(raw)
    if origin is frozenset:
        (inner,) = typing.get_args(tp)
        return frozenset(_convert(inner, x) for x in raw)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(raw)
    if isinstance(raw, dict) and "type" in raw:
        return decode(raw)
    if tp is float:
        return float(raw)
    return raw


def decode(data: dict[str, Any]) -> Any:
    """The core value encoded by :func:`encode`; raises ``ValueError`` on an unknown type."""
    name = data.get("type")
    cls = _CLASSES.get(str(name))
    if cls is None:
        raise ValueError(f"unknown core value type {name!r}")
    hints = typing.get_type_hints(cls, vars(m))
    kwargs = {
        f.name: _convert(hints[f.name], data[f.name]) for f in dataclasses.fields(cls) if f.name in data
    }
    return cls(**kwargs)
