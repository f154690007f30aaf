"""Contracts between the infrastructure and the Lambda code: one dependency-free module per contract.

The stack imports them to set environments, patterns and alarms; the handlers import them (the
package is packaged into each zip under the same import path) to read exactly what is set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class MissingSettingError(RuntimeError):
    """A handler started without a setting the stack must set: fail loudly at cold start."""


def required(function: str, names: Sequence[str], environ: Mapping[str, str]) -> dict[str, str]:
    """`names` from `environ`; every missing or empty one is named at once."""
    missing = [name for name in names if not environ.get(name)]
    if missing:
        raise MissingSettingError(f"{function} needs environment variables {missing}; the stack sets them")
    return {name: environ[name] for name in names}
