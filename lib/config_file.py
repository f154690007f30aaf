"""Per-environment configuration files: `TAP_CONFIG=path/to/env.toml` overrides a profile's sections.

The file mirrors the configuration model (`config.py`): a table per section (`[payments]`,
`[database]`, `[edge]`, `[baseline]`, ...) and a few top-level keys (`environment_suffix`,
`region`, `protected`). Unknown keys and wrong types are violations naming the file and the key
path; the values then go through the same validation as everything else. Environment variables
are applied after the file, so they win. Every value the file sets is recorded as its source.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from lib.config import BucketLifecycle, DeploymentConfig
from lib.errors import Violation

FILE_RULES = frozenset({"file.read", "file.unknown_key", "file.type", "file.section_off"})
# Chosen by TAP_PROFILE and the profile itself, or by environment variables only.
NOT_FROM_FILE = frozenset({"profile", "description", "name_prefix", "sources", "destroyable", "backend"})


class _Invalid:
    """Marks a value that was refused (its violation is already recorded)."""


INVALID = _Invalid()


@dataclasses.dataclass
class FileOverlay:
    file: str
    problems: list[Violation] = dataclasses.field(default_factory=list)
    sources: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def refuse(self, rule_id: str, path: str, value: object, rule: str) -> _Invalid:
        self.problems.append(Violation(path, value, rule, rule_id, source=f"{self.file}: {path}"))
        return INVALID

    def overlay(self, current: Any, table: Mapping[str, Any], path: str = "") -> Any:
        """`current` (a config dataclass) with the table's keys applied."""
        fields = {f.name: f for f in dataclasses.fields(current)}
        hints = typing.get_type_hints(type(current))
        changes: dict[str, Any] = {}
        for key, raw in table.items():
            key_path = f"{path}.{key}" if path else key
            if key not in fields or (not path and key in NOT_FROM_FILE):
                allowed = sorted(name for name in fields if path or name not in NOT_FROM_FILE)
                self.refuse("file.unknown_key", key_path, raw, f"unknown key; known here: {allowed}")
                continue
            value = self.convert(raw, hints[key], getattr(current, key), key_path)
            if value is not INVALID:
                changes[key] = value
                if not isinstance(raw, dict):
                    self.sources.append((key_path, f"{self.file}: {key_path}"))
        return dataclasses.replace(current, **changes)

    def convert(self, raw: Any, hint: Any, current: Any, path: str) -> Any:
        """`raw` from the file as a value of type `hint`, or INVALID with the problem recorded."""
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            return self._optional(raw, args, current, path)
        if dataclasses.is_dataclass(hint):
            return (
                self.overlay(current, raw, path)
                if isinstance(raw, dict)
                else self.refuse("file.type", path, raw, "must be a table")
            )
        if origin in (Mapping, dict) or hint is Mapping:
            return self._buckets(raw, current, path)
        if origin is Literal:
            return raw if raw in args else self.refuse("file.type", path, raw, f"must be one of {list(args)}")
        if origin is tuple:
            return self._tuple(raw, args, path)
        return self._scalar(raw, hint, path)

    def _optional(self, raw: Any, args: tuple[Any, ...], current: Any, path: str) -> Any:
        """`X | None`: a section the profile turned off cannot be turned on by a file."""
        if current is None and any(dataclasses.is_dataclass(a) for a in args):
            return self.refuse(
                "file.section_off",
                path,
                raw,
                "this section is off in the profile; a file adjusts sections a profile has",
            )
        (inner,) = [a for a in args if a is not type(None)]
        return self.convert(raw, inner, current, path)

    def _buckets(self, raw: Any, current: Mapping[str, BucketLifecycle], path: str) -> Any:
        if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
            return self.refuse("file.type", path, raw, "must be a table of bucket tables")
        merged = dict(current)
        for purpose, table in raw.items():
            merged[purpose] = self.overlay(current.get(purpose, BucketLifecycle()), table, f"{path}[{purpose!r}]")
        return merged

    def _tuple(self, raw: Any, args: tuple[Any, ...], path: str) -> Any:
        if not isinstance(raw, list):
            return self.refuse("file.type", path, raw, "must be an array")
        item_types = [args[0]] * len(raw) if len(args) == 2 and args[1] is Ellipsis else list(args)
        if len(item_types) != len(raw):
            return self.refuse("file.type", path, raw, f"must be an array of {len(args)} values")
        items = [
            self.convert(item, kind, None, f"{path}[{i}]")
            for i, (item, kind) in enumerate(zip(raw, item_types, strict=True))
        ]
        return INVALID if any(item is INVALID for item in items) else tuple(items)

    def _scalar(self, raw: Any, hint: Any, path: str) -> Any:
        if hint is float and isinstance(raw, int | float) and not isinstance(raw, bool):
            return float(raw)
        if hint in (bool, int, str) and type(raw) is hint:
            return raw
        return self.refuse("file.type", path, raw, f"must be {getattr(hint, '__name__', hint)}")


def apply_file(base: DeploymentConfig, path: str) -> tuple[DeploymentConfig, list[tuple[str, str]], list[Violation]]:
    """The profile with the file's values, their sources, and every problem found in the file."""
    overlay = FileOverlay(file=path)
    try:
        table = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return base, [], [Violation("TAP_CONFIG", path, "no such file", "file.read")]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return base, [], [Violation("TAP_CONFIG", path, f"cannot be read as TOML: {error}", "file.read")]
    protected = table.pop("protected", None)
    if protected is not None and not isinstance(protected, bool):
        overlay.refuse("file.type", "protected", protected, "must be true or false")
    config = overlay.overlay(base, table)
    if isinstance(protected, bool):
        config = dataclasses.replace(config, destroyable=not protected)
        overlay.sources.append(("destroyable", f"{path}: protected"))
    return config, overlay.sources, overlay.problems
