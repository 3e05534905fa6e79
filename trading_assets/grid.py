"""Parameter grids: one model entry in the YAML, many named variants.

A parameter that takes one value may be given a list (`fast: [5, 10, 15]`) or an
inclusive range (`slow: {from: 30, to: 100, step: 10}`); the entry expands to the
cartesian product, in the order the parameters and values are written. Each variant is
named `<signature>-<param><value>-...` over the gridded parameters only, so a variant
keeps its name (and its config hash) when other axes change. `constraints` (strings
like `fast < slow`, comparing two parameters or a parameter and a number) drop the
combinations they rule out; the count of dropped ones is reported, never an error.

Pure: no I/O, no agents. `config.py` decides which parameters take one value (the
agent's params schema) and names the file and entry in errors.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from trading_assets.errors import ConfigError
from trading_assets.vocab import SIGNATURE_RE

MAX_VARIANTS = 100_000  # a grid past this is a typo (a step of 0.0001), not a study
RANGE_KEYS = {"from", "to", "step"}
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_CONSTRAINT = re.compile(
    r"^\s*([A-Za-z_]\w*|-?\d+(?:\.\d+)?)\s*(<=|>=|==|!=|<|>)\s*([A-Za-z_]\w*|-?\d+(?:\.\d+)?)\s*$"
)


@dataclass(frozen=True)
class Variant:
    signature: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Expansion:
    variants: tuple[Variant, ...]
    dropped: int  # combinations a constraint ruled out


def is_axis(value: Any) -> bool:
    """A list, or a {from, to, step} mapping: a grid axis for a one-value parameter."""
    return isinstance(value, list | tuple) or (
        isinstance(value, Mapping) and set(value) == RANGE_KEYS
    )


def axis_values(name: str, value: Any, *, where: str) -> list[Any]:
    if isinstance(value, list | tuple):
        if not value:
            raise ConfigError(
                f"params.{name}: an empty list gives no variant",
                where=where,
                fix="list at least one value",
            )
        return list(value)
    return _range(name, value, where=where)


def _range(name: str, spec: Mapping[str, Any], *, where: str) -> list[Any]:
    bad = [k for k in ("from", "to", "step") if not _number(spec[k])]
    if bad:
        raise ConfigError(
            f"params.{name}.{bad[0]} must be a number",
            where=where,
            fix="e.g. {from: 30, to: 100, step: 10}",
        )
    start, stop, step = (Decimal(str(spec[k])) for k in ("from", "to", "step"))
    if step <= 0 or stop < start:
        raise ConfigError(
            f"params.{name}: the range {spec['from']}..{spec['to']} by {spec['step']} is empty",
            where=where,
            fix="use from <= to and a positive step",
        )
    count = int((stop - start) / step) + 1
    if count > MAX_VARIANTS:
        raise ConfigError(
            f"params.{name}: {count:,} values (at most {MAX_VARIANTS:,})",
            where=where,
            fix="use a larger step",
        )
    as_int = all(isinstance(spec[k], int) for k in ("from", "to", "step"))
    values = [start + i * step for i in range(count)]
    return [int(v) if as_int else float(v) for v in values]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def expand(
    signature: str,
    params: Mapping[str, Any],
    one_value: set[str],
    constraints: Sequence[str] = (),
    *,
    where: str,
) -> Expansion:
    """The entry's variants; a params mapping without an axis is one variant, named as
    written (constraints then apply only to refuse it)."""
    axes = {
        k: axis_values(k, v, where=where)
        for k, v in params.items()
        if k in one_value and is_axis(v)
    }
    checks = [_parse(c, params, where=where) for c in constraints]
    names = list(axes)
    total = 1
    for values in axes.values():
        total *= len(values)
    if total > MAX_VARIANTS:
        raise ConfigError(
            f"the grid has {total:,} combinations (at most {MAX_VARIANTS:,})",
            where=where,
            fix="narrow the lists or ranges, or split the entry",
        )
    variants, dropped = [], 0
    for combo in itertools.product(*(axes[n] for n in names)):
        chosen = {**params, **dict(zip(names, combo, strict=True))}
        if not all(check(chosen) for check in checks):
            dropped += 1
            continue
        name = "-".join(
            [signature, *(f"{n}{_label(v)}" for n, v in zip(names, combo, strict=True))]
        )
        if not SIGNATURE_RE.match(name):
            raise ConfigError(
                f"variant name {name!r} is not a valid signature",
                where=where,
                fix="use a shorter signature or fewer gridded parameters (at most 128 characters)",
            )
        variants.append(Variant(name, chosen))
    return Expansion(tuple(variants), dropped)


def _label(value: Any) -> str:
    text = format(value, "g") if isinstance(value, float) else str(value)
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


def _parse(text: str, params: Mapping[str, Any], *, where: str) -> Callable[[Mapping], bool]:
    match = _CONSTRAINT.match(text) if isinstance(text, str) else None
    if match is None:
        raise ConfigError(
            f"constraint {text!r} is not '<param> <op> <param or number>'",
            where=where,
            fix="write e.g. 'fast < slow' (ops: < <= > >= == !=)",
        )
    left, op, right = match.groups()
    for side in (left, right):
        if (side[0].isalpha() or side[0] == "_") and side not in params:
            raise ConfigError(
                f"constraint {text!r} names {side!r}, which is not a parameter of this entry",
                where=where,
                fix=f"use one of: {', '.join(params) or '(no params)'}",
            )

    def value(side: str, chosen: Mapping[str, Any]) -> Any:
        return chosen[side] if side in chosen else float(side)

    compare = _OPS[op]
    return lambda chosen: compare(value(left, chosen), value(right, chosen))
