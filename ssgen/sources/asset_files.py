"""The asset files of a local dataset: which file holds each image asset, and its digest.

Owns connecting an asset document to its file, in the layout of a ``sanity dataset
export``: ``images/<sha1>-<W>x<H>.<ext>`` beside an NDJSON file, or the same path inside
an export ``.tar.gz`` (``<dataset>-export-<date>/images/...``, ``files/`` alike). The
content digest of each file is cached by its stat stamp (an archive's members by the
archive's stamp) in ``digests.json`` of the cache folder, so an unchanged site does not
re-read its images. OS and archive errors become ``SourceError``.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from pathlib import Path, PurePosixPath

import orjson

from ssgen.config import Config
from ssgen.config.images import asset_homes
from ssgen.errors import SourceError

_ARCHIVE_FOLDERS = ("images", "files")


class AssetFiles:
    """Finds, reads and digests the asset files of one site's local dataset."""

    def __init__(self, config: Config, cache_dir: Path) -> None:
        self._site = config.site_dir
        self._homes = asset_homes(config.source, config.site_dir)
        self._cache_file = cache_dir / "digests.json"
        self._stamps = _load_json(self._cache_file)
        self._fresh: dict[str, list[object]] = {}
        self._members: dict[Path, dict[str, bytes]] = {}

    def locate(self, name: str) -> Path | None:
        """The folder or archive holding asset file ``name`` (None: not in the dataset)."""
        for home in self._homes:
            if home.is_dir():
                if (home / name).is_file():
                    return home
            elif name in self._archive(home):
                return home
        return None

    def where(self) -> str:
        """Where asset files are looked for, for messages."""
        homes = [str(h.relative_to(self._site)) if h.is_relative_to(self._site) else str(h)
                 for h in self._homes]
        return ", ".join(homes) or "nowhere (no images/ folder beside the dataset)"

    def read(self, name: str) -> bytes:
        """The bytes of asset file ``name`` (``SourceError`` when it is missing)."""
        home = self.locate(name)
        if home is None:
            raise SourceError(f"image asset file {name} not found in {self.where()}")
        if not home.is_dir():
            return self._archive(home)[name]
        try:
            return (home / name).read_bytes()
        except OSError as exc:
            raise SourceError(f"{home / name}: cannot read: {exc.strerror or exc}") from exc

    def digest(self, name: str) -> str | None:
        """The content digest of asset file ``name``; None when it is missing. An archive
        whose stamp is unchanged is not opened."""
        for home in self._homes:
            is_dir = home.is_dir()
            path = home / name if is_dir else home
            key = str(path) if is_dir else f"{path}!{name}"
            if is_dir and not path.is_file():
                continue
            stamp = list(_stamp(path))
            known = self._stamps.get(key)
            if isinstance(known, list) and known[:3] == stamp:
                self._fresh[key] = known
                return str(known[3])
            if not is_dir and name not in self._archive(home):
                continue
            data = self.read(name) if is_dir else self._archive(home)[name]
            digest = hashlib.blake2b(data, digest_size=16).hexdigest()
            self._fresh[key] = [*stamp, digest]
            return digest
        return None

    def save(self) -> None:
        """Keep the digests of the files seen in this build for the next one."""
        if self._fresh == self._stamps:
            return
        self._cache_file.parent.mkdir(parents=True, exist_ok=True)
        temp = self._cache_file.with_suffix(".tmp")
        temp.write_bytes(orjson.dumps(self._fresh, option=orjson.OPT_SORT_KEYS))
        os.replace(temp, self._cache_file)

    def _archive(self, path: Path) -> dict[str, bytes]:
        """The asset files in an export archive, by file name (read once per build)."""
        members = self._members.get(path)
        if members is None:
            members = self._members[path] = _archive_members(path)
        return members


def _archive_members(path: Path) -> dict[str, bytes]:
    import tarfile  # here: ~1.5 ms of every build's start otherwise

    found: dict[str, bytes] = {}
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            for member in archive:
                parts = PurePosixPath(member.name).parts
                if member.isfile() and len(parts) >= 2 and parts[-2] in _ARCHIVE_FOLDERS:
                    handle = archive.extractfile(member)
                    if handle is not None:
                        found.setdefault(parts[-1], handle.read())
    except (OSError, tarfile.TarError, EOFError, zlib.error) as exc:
        raise SourceError(f"{path}: not a readable .tar.gz export ({exc})") from exc
    return found


def _stamp(path: Path) -> tuple[int, int, int]:
    try:
        stat = path.stat()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


def _load_json(path: Path) -> dict[str, list[object]]:
    try:
        value = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}
