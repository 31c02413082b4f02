"""Image stage of the build: every variant a page uses is in ``public/_img/``, no other.

Runs after the pages are recorded, on every build (an unchanged site too: an asset file
may have changed under the same name). The variants in use are the ``image:`` tags of
the recorded pages (``ssgen.render.images.variants``); each is looked up in the render cache by
(asset file digest, variant), rendered with Pillow on worker processes when missing,
and placed in the output when the recorded file differs (new, changed asset, deleted or
damaged file). Variants no page uses any more are deleted. Variants are owned outputs in
the manifest (kind ``generated``, under ``_img/``), so deploy uploads them. A process
skips the stage when everything it reads is as its last sync left it (serve's rounds
that change no image: two indexed reads and a ``stat`` per folder, asset and variant).

The cache is ``.ssgen/images/`` (or ``$SSGEN_IMAGE_CACHE``, which several checkouts may
share): ``<key>.<ext>`` files, ``index.json`` (key -> sha256 and size) and the asset
digests. A site's own cache keeps only the variants of its last build.
"""

from __future__ import annotations

import hashlib
import os
import signal
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson

from ssgen.build.output import Output, checked_relpath, sha256
from ssgen.build.report import SITE_FILES_ROUTE, BuildReport, PageFailure
from ssgen.config import Config
from ssgen.config.images import asset_homes
from ssgen.errors import SsgenError
from ssgen.fastclass import dataclass
from ssgen.manifest.store import Manifest
from ssgen.memos import site_memo
from ssgen.render.images.variants import OUTPUT_DIR, TAG_PREFIX, Variant
from ssgen.sources.asset_files import AssetFiles

CACHE_ENV = "SSGEN_IMAGE_CACHE"
_PARALLEL_THRESHOLD = 4
Rendered = tuple[str, bytes | None, str | None]  # tag, bytes, error


def cache_dir(config: Config) -> Path:
    """Where rendered variants are cached."""
    shared = os.environ.get(CACHE_ENV)
    return Path(shared) if shared else config.state_dir / "images"


def sync_images(config: Config, manifest: Manifest, report: BuildReport, *,
                jobs: int | None = None) -> None:
    """Render, place and delete variants so the output holds exactly those in use; or
    nothing, when every input is as the last sync in this process left it (``_Stamp``)."""
    recorded = _recorded(manifest)
    tags = manifest.tags_starting(TAG_PREFIX)
    where = (str(config.output_dir), str(cache_dir(config)), CACHE_ENV in os.environ)
    last = _SYNCED.pop(where, None)
    used = _variants(tags)
    if last is not None and last.tags == tags and last.recorded == recorded \
            and last.disk == _disk(config, used):
        _SYNCED[where] = last  # nothing it reads changed: it would do nothing
        return
    failures = len(report.failures)
    _sync(config, manifest, report, jobs, recorded, used)
    if len(report.failures) == failures:  # a failure is reported again by every build
        _SYNCED[where] = _Stamp(frozenset(tags), _recorded(manifest), _disk(config, used))


@dataclass(frozen=True)
class _Stamp:
    """What a sync read, as it left it: the pages' image tags, the variants' records, and
    the stats of the asset folders, of each asset file in each and of each variant's
    output file (a file added to, removed from or renamed in a folder changes its
    mtime; one written in place, its own stat)."""

    tags: frozenset[str]
    recorded: dict[str, str]
    disk: tuple[tuple[int, int, int] | None, ...]


# Per (output folder, image cache, cache shared): the last sync that reported no failure.
_SYNCED: dict[tuple[str, str, bool], _Stamp] = site_memo()


def _recorded(manifest: Manifest) -> dict[str, str]:
    return {rel: rec.hash for rel, rec in manifest.files_starting(f"{OUTPUT_DIR}/").items()
            if rec.kind == "generated"}


def _disk(config: Config, used: dict[str, Variant]) -> tuple[tuple[int, int, int] | None, ...]:
    homes = [str(home) for home in asset_homes(config.source, config.site_dir)]
    names = sorted({_source_name(variant) for variant in used.values()})
    root = str(config.output_dir)
    paths = [*homes, *(os.path.join(home, name) for home in homes for name in names),
             *(os.path.join(root, rel) for rel in used)]
    return tuple(map(_stat, paths))


def _source_name(variant: Variant) -> str:
    parsed = _parsed(variant.tag)
    return parsed[2] if parsed is not None else variant.source_name


def _stat(path: str) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size, info.st_ino


def _sync(config: Config, manifest: Manifest, report: BuildReport, jobs: int | None,
          recorded: dict[str, str], used: dict[str, Variant]) -> None:
    if not used and not recorded:
        return
    folder = cache_dir(config)
    cache = _Cache(folder, own=CACHE_ENV not in os.environ)
    store = AssetFiles(config, folder)
    output = Output(config.output_dir)
    missing, place = _plan(used, recorded, store, cache, output, report)
    for tag, data, error in _render(store, missing, jobs):
        variant = used[Variant.from_tag(tag).file]
        if data is None:
            report.failures.append(PageFailure(f"/{variant.file}", SITE_FILES_ROUTE,
                                               error or "failed"))
            continue
        cache.put(missing[tag], variant.ext, data)
        place.append((variant, missing[tag]))
        report.images_rendered += 1
    # Noted before any is written: a build killed among the writes leaves them owned.
    if place:
        manifest.journal_add((variant.file, "generated") for variant, _ in place)
    with manifest.transaction():
        for variant, key in place:
            data = cache.read(key, variant.ext)
            written, created = output.put(variant.file, data)
            if written:
                report.images_written += 1
                (report.new if created else report.changed).append(variant.file)
            manifest.set_file(variant.file, sha256(data), "generated")
        manifest.journal_clear(variant.file for variant, _ in place)
        for rel in sorted(recorded.keys() - used.keys()):
            if output.remove(rel):
                report.removed += 1
                report.deleted.append(rel)
            manifest.remove_file(rel)
    cache.save()
    store.save()


# Tag -> (variant, its output file, its asset's file name), or None for a tag that names
# no variant: pure functions of the tag, parsed once per process rather than for each of
# the site's variants on every build (serve's rounds look at all of them each time).
_PARSED: dict[str, tuple[Variant, str, str] | None] = {}
_PARSED_MAX = 100_000


def _parsed(tag: str) -> tuple[Variant, str, str] | None:
    if tag in _PARSED:
        return _PARSED[tag]
    found: tuple[Variant, str, str] | None = None
    try:
        variant = Variant.from_tag(tag)
        found = (variant, variant.file, variant.source_name)
    except ValueError:
        pass  # a user's own route tag that happens to start with "image:"
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[tag] = found
    return found


def _variants(tags: Iterable[str]) -> dict[str, Variant]:
    found: dict[str, Variant] = {}
    for tag in sorted(tags):
        parsed = _parsed(tag)
        if parsed is not None:
            found[parsed[1]] = parsed[0]
    return found


def _plan(used: dict[str, Variant], recorded: dict[str, str], store: AssetFiles,
          cache: _Cache, output: Output, report: BuildReport,
          ) -> tuple[dict[str, str], list[tuple[Variant, str]]]:
    """(tag -> cache key of each variant to render, variants to place from the cache)."""
    missing: dict[str, str] = {}
    place: list[tuple[Variant, str]] = []
    digests: dict[str, str | SsgenError | None] = {}  # per asset file: its variants share it
    root = str(output.root)
    for rel, variant in sorted(used.items()):
        parsed = _parsed(variant.tag)
        name = parsed[2] if parsed is not None else variant.source_name
        digest = digests[name] = digests[name] if name in digests else _digest(store, name)
        if isinstance(digest, SsgenError):
            report.failures.append(PageFailure(f"/{rel}", SITE_FILES_ROUTE, str(digest)))
            continue
        if digest is None:
            report.failures.append(PageFailure(
                f"/{rel}", SITE_FILES_ROUTE, f"image asset file {name} of "
                f"{variant.asset_id} not found in {store.where()}"))
            continue
        key = hashlib.blake2b(f"{digest}\0{variant.tag}".encode(), digest_size=16).hexdigest()
        entry = cache.entry(key, variant.ext)
        if entry is None:
            missing[variant.tag] = key
        elif recorded.get(rel) != entry[0] or not _intact(root, rel, entry[1]):
            place.append((variant, key))
        else:
            cache.keep(key)
    return missing, place


def _digest(store: AssetFiles, name: str) -> str | SsgenError | None:
    try:
        return store.digest(name)
    except SsgenError as exc:
        return exc


def _intact(root: str, rel: str, size: int) -> bool:
    """Whether output file ``rel`` (checked as ``Output.path`` checks it) has ``size``."""
    try:
        return os.stat(os.path.join(root, checked_relpath(rel))).st_size == size
    except OSError:
        return False


class _Cache:
    """Rendered variants by key, with their sha256 and size."""

    def __init__(self, folder: Path, *, own: bool) -> None:
        self.folder = folder
        self._folder = str(folder)  # joined per variant: no Path made each time
        self.own = own
        self._read = b""
        try:
            self._read = (folder / "index.json").read_bytes()
            index = orjson.loads(self._read)
        except (OSError, orjson.JSONDecodeError):
            index = {}
        self.index: dict[str, list[object]] = index if isinstance(index, dict) else {}
        self.kept: set[str] = set()

    def entry(self, key: str, ext: str) -> tuple[str, int] | None:
        value = self.index.get(key)
        if not isinstance(value, list) or not os.path.isfile(
                os.path.join(self._folder, f"{key}.{ext}")):
            return None
        return str(value[0]), int(str(value[1]))

    def keep(self, key: str) -> None:
        self.kept.add(key)

    def put(self, key: str, ext: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.folder / f"{key}.{ext}", data)
        self.index[key] = [sha256(data), len(data)]

    def read(self, key: str, ext: str) -> bytes:
        self.kept.add(key)
        return (self.folder / f"{key}.{ext}").read_bytes()

    def save(self) -> None:
        """Write the index; a site's own cache also drops the variants it no longer uses."""
        if self.own:
            for key in sorted(self.index.keys() - self.kept):
                for stale in self.folder.glob(f"{key}.*"):
                    stale.unlink(missing_ok=True)
                del self.index[key]
        data = orjson.dumps(self.index, option=orjson.OPT_SORT_KEYS)
        if data == self._read:  # most rounds in serve make no variant: no write
            return
        if self.index or (self.folder / "index.json").exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.folder / "index.json", data)


def _atomic_write(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_bytes(data)
    os.replace(temp, path)


# --- rendering on worker processes --------------------------------------------------------


def _render(store: AssetFiles, missing: dict[str, str], jobs: int | None) -> Iterator[Rendered]:
    """Render every missing variant, one task per asset (decoded once), in parallel."""
    groups: dict[str, list[str]] = {}
    for tag in sorted(missing):
        groups.setdefault(Variant.from_tag(tag).source_name, []).append(tag)
    tasks = sorted(groups.items())
    jobs = min(jobs or os.cpu_count() or 1, len(tasks))
    global _STORE
    _STORE = store
    try:
        if jobs <= 1 or len(missing) < _PARALLEL_THRESHOLD:
            for task in tasks:
                yield from _render_asset(task)
            return
        import multiprocessing  # only when variants are made: 2.5 ms off every build

        context = multiprocessing.get_context("fork")
        with context.Pool(jobs, initializer=_quiet_interrupts) as pool:
            for batch in pool.imap_unordered(_render_asset, tasks):
                yield from batch
    finally:
        _STORE = None


_STORE: AssetFiles | None = None


def _quiet_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent reports Ctrl-C once


def _render_asset(task: tuple[str, list[str]]) -> list[Rendered]:
    """Every variant of one asset: (tag, bytes, None) or (tag, None, error)."""
    from ssgen.render.images.pillow import open_image, render_variant

    name, tags = task
    assert _STORE is not None
    try:
        data = _STORE.read(name)
        if name.endswith(".svg"):
            return [(tag, data, None) for tag in tags]
        source = open_image(data)
    except Exception as exc:  # a broken asset fails its variants, not the build
        return [(tag, None, f"cannot read image {name}: {exc}") for tag in tags]
    out: list[Rendered] = []
    for tag in tags:
        variant = Variant.from_tag(tag)
        try:
            out.append((tag, render_variant(source, variant.query, variant.ext), None))
        except Exception as exc:
            out.append((tag, None, f"cannot render {variant.file} from {name}: {exc}"))
    return out
