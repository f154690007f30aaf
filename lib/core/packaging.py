"""Reproducible Lambda zips: the function's own files plus pure-Python packages from the venv.

The packages come from the distributions installed from the lock file (their recorded file
lists), so packaging needs no network. Entries are sorted with fixed timestamps and
permissions, so the same inputs give the same bytes and the same `source_code_hash`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.metadata
import io
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Where zips are built (ignored by git); the same inputs reuse the same zip across runs.
BUILD_DIR = Path(__file__).resolve().parent.parent.parent / ".build" / "lambda"
FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
SKIPPED_SUFFIXES = (".pyc",)
SKIPPED_PARTS = ("__pycache__", ".dist-info")


@dataclass(frozen=True)
class LambdaPackage:
    path: Path
    sha256_base64: str

    @property
    def sha256_hex(self) -> str:
        """The zip's SHA-256 in hex: content-addressed object names."""
        return base64.b64decode(self.sha256_base64).hex()


@functools.cache
def distribution_files(name: str) -> tuple[tuple[str, Path], ...]:
    """(path inside the zip, file on disk) for an installed distribution's importable files.

    Cached per process: several functions ship the same distributions, and reading a
    distribution's record costs more than hashing its files.
    """
    distribution = importlib.metadata.distribution(name)
    return tuple(
        (str(file).replace("\\", "/"), Path(str(distribution.locate_file(file))))
        for file in distribution.files or []
        if not file.name.endswith(SKIPPED_SUFFIXES)
        and not any(p.endswith(SKIPPED_PARTS) for p in Path(file).parts)
        and Path(file).parts[0] != ".."
    )


def build(
    source_dirs: Sequence[Path],
    distributions: Sequence[str],
    out_dir: Path,
    extra_files: Mapping[str, Path] | None = None,
) -> LambdaPackage:
    """Files of every source dir at the zip root (the first names the zip), `extra_files` at
    their given paths (contract modules), then the packages."""
    entries: dict[str, Path] = dict(extra_files or {})
    for source_dir in source_dirs:
        for path in sorted(source_dir.rglob("*")):
            relative = path.relative_to(source_dir)
            # Hidden files and directories (tool caches such as .mypy_cache) are never code.
            hidden = any(part.startswith(".") for part in relative.parts)
            skipped = any(p in SKIPPED_PARTS for p in relative.parts) or path.suffix in SKIPPED_SUFFIXES
            if path.is_file() and not hidden and not skipped:
                entries[relative.as_posix()] = path
    for name in distributions:
        entries.update(distribution_files(name))
    # Deflating is the slow part: reuse the zip built earlier from exactly these inputs.
    inputs = hashlib.sha256()
    for arcname in sorted(entries):
        inputs.update(arcname.encode() + b"\0" + hashlib.sha256(entries[arcname].read_bytes()).digest())
    return cached_zip(
        out_dir,
        source_dirs[0].name,
        inputs.hexdigest(),
        lambda: {arcname: entries[arcname].read_bytes() for arcname in entries},
    )


def cached_zip(
    out_dir: Path, stem: str, inputs_digest: str, members: Callable[[], Mapping[str, bytes]]
) -> LambdaPackage:
    """The zip `<stem>-<hash>.zip` of `members` (sorted, fixed timestamps and modes), built once per
    `inputs_digest`: a manifest names the zip a digest of the same inputs produced."""
    manifest = out_dir / f"{stem}-inputs-{inputs_digest[:24]}.txt"
    if manifest.exists():
        path_text, digest_text = manifest.read_text().split()
        if Path(path_text).exists():
            return LambdaPackage(Path(path_text), digest_text)
    contents = members()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for arcname in sorted(contents):
            info = zipfile.ZipInfo(arcname, date_time=FIXED_TIMESTAMP)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, contents[arcname])
    data = buffer.getvalue()
    digest = hashlib.sha256(data).digest()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{stem}-{digest.hex()[:16]}.zip"
    if not path.exists():
        path.write_bytes(data)
    package = LambdaPackage(path, base64.b64encode(digest).decode())
    manifest.write_text(f"{path} {package.sha256_base64}\n")
    return package
