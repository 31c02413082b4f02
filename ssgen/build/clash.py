"""Output clashes, found before anything is written and decided the same way whatever
the site's history.

A page cannot be written when its file is one ssgen writes for another reason or when
one of the two would need the other as a folder:

- page vs static file (``static/about/index.html`` and the page ``/about/``): static wins;
- page vs generated file (a route at ``/feed.xml``, ``/robots.txt``, ``/sitemap.xml``,
  or any ``/sitemap-N.xml``, which the sitemap takes once the site outgrows one file):
  the generated file wins, and the page is never listed in the sitemap;
- static file vs sitemap part (``static/sitemap-2.xml``): reported; a
  ``static/sitemap.xml`` replaces the whole generated sitemap, parts included;
- file vs folder (the post slug ``index.html`` puts ``/blog/index.html/`` under the list
  page's file ``blog/index.html``): the page that needs the other's file as a folder
  fails, the other is built (static and generated files always win).

Two pages with one path are the uniqueness check's (``ssgen.routes.spec``); paths are
compared in their canonical form (``ssgen.routes.paths.canonical_path``). The failing
pages fail alone: the build reports them and goes on with every other page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from functools import lru_cache
from pathlib import PurePosixPath

from ssgen.build.output import url_to_file, url_to_relpath
from ssgen.config.load import Config
from ssgen.errors import OutputError
from ssgen.manifest.store import Manifest
from ssgen.render.sitemap import INDEX, is_sitemap_file
from ssgen.routes.page import PageSpec

_SITEMAP_OWNER = "the generated sitemap (sitemap-1.xml, sitemap-2.xml, ... past [sitemap] max_urls)"
_SITEMAP_FIX = "or turn the sitemap off ([sitemap] enabled = false)"


def generated_files(config: Config) -> set[str]:
    """The files ssgen generates besides pages: sitemap, robots.txt and the feed."""
    files = {"robots.txt"}
    if config.sitemap.enabled:
        files.add("sitemap.xml")
    if config.feed is not None:
        files.add(str(url_to_file(config.feed.path)))
    return files


def page_files(pages: Mapping[str, PageSpec]) -> dict[str, str]:
    """Each page's output file by path (pages whose path is unusable are left out: they
    fail when rendered, with the reason)."""
    files: dict[str, str] = {}
    for path, spec in pages.items():
        try:
            files[path] = url_to_relpath(path, spec.route)
        except OutputError:
            continue
    return files



def find_clashes(manifest: Manifest, files: Mapping[str, str], static: Iterable[str],
                 generated: Iterable[str]) -> dict[str, str]:
    """Page path -> why its file cannot be written, for the pages of ``files`` (in the
    order of their files)."""
    owners = {rel: f"static/{rel}" for rel in static}
    owners.update({rel: f"the generated {rel}" for rel in generated if rel not in owners})
    owner = _owner_of(owners)
    folders = {folder: who for rel, who in owners.items() for folder in _folders(rel)}
    pages = {file: path for path, file in files.items()}
    below = _all_folders(pages)
    # A page's file always has a dot in its name (url_to_file), so only such folders can
    # be one (asking SQLite for every post's folder cost a second at 10k posts).
    wanted = {folder for folder in below if "." in folder.rpartition("/")[2]} - pages.keys()
    recorded = {rel for rel, record in manifest.files_at(wanted).items() if record.kind == "page"}
    if not _may_clash(owners, folders, pages.keys(), below, recorded):
        return {}
    failed: list[tuple[str, str, str]] = []
    # Every page looked at in any order and only the failures sorted (by file), not
    # every page (100k pages: ~0.1 s of the serial time before the render).
    for file, path in pages.items():
        if (who := owner(file)) is not None:
            failed.append((file, path, f"{who} is written to {file}, the file of this page"))
        elif file in folders:
            failed.append((file, path, f"{folders[file]} needs {file} as a folder, the file "
                                       "of this page"))
        else:
            for folder in _folders(file):
                other = owner(folder) or (
                    f"the page {pages[folder]}" if folder in pages
                    else "another page" if folder in recorded else None)
                if other is not None:
                    failed.append((file, path, f"its file {file} needs {folder} as a folder, "
                                               f"which is the file of {other}"))
                    break
    return {path: f"output clash: {why}; change the route's path or the slug"
                  + (f", {_SITEMAP_FIX}" if _SITEMAP_OWNER in why else "")
            for _, path, why in sorted(failed)}


def _may_clash(owners: Mapping[str, str], folders: Mapping[str, str],
               files: AbstractSet[str], below: AbstractSet[str],
               recorded: AbstractSet[str]) -> bool:
    """Whether ``find_clashes``' page by page look can find anything: a file that is
    owned, or someone's folder; a folder of a file that is owned, a page's file or a
    recorded page's file. Set operations, in C: most sites have no clash at all."""
    if files & owners.keys() or files & folders.keys() \
            or below & owners.keys() or below & files or below & recorded:
        return True
    # The names the generated sitemap may take besides its index (``_owner_of``).
    return owners.get(INDEX) == f"the generated {INDEX}" and any(
        is_sitemap_file(rel) for rel in (*files, *below) if rel.startswith("sitemap"))


def _owner_of(owners: Mapping[str, str]) -> Callable[[str], str | None]:
    """Who writes an output relpath: ``owners``, and while ssgen writes the sitemap, every
    ``sitemap-N.xml`` too (decided by name, not by how many parts the site has today)."""
    parts = owners.get(INDEX) == f"the generated {INDEX}"

    def owner(rel: str) -> str | None:
        found = owners.get(rel)
        # The prefix first: a page's file or folder is seldom named sitemap*.
        if found is None and parts and rel.startswith("sitemap") and is_sitemap_file(rel):
            return _SITEMAP_OWNER
        return found

    return owner


def static_sitemap_clashes(config: Config, static: Iterable[str]) -> dict[str, str]:
    """Static file relpath -> why it cannot stand where the generated sitemap may write
    a part (a ``static/sitemap.xml`` replaces the whole sitemap: then there is none)."""
    names = set(static)
    if not config.sitemap.enabled or INDEX in names:
        return {}
    return {rel: f"output clash: static/{rel} is the name of a part of {_SITEMAP_OWNER}; "
                 "rename it, put your own sitemap.xml in static/ too (it replaces the "
                 f"generated sitemap, parts included), {_SITEMAP_FIX}"
            for rel in sorted(names) if is_sitemap_file(rel)}


def clashing_records(manifest: Manifest, static: Iterable[str],
                     generated: Iterable[str]) -> set[str]:
    """Recorded pages whose file is (or is a folder of) a static or generated file, or
    names a sitemap part once a ``static/sitemap.xml`` is gone: an incremental build must
    look at them again, as a full build would."""
    static, generated = set(static), set(generated)
    wanted = {part for rel in (*static, *generated) for part in (rel, *_folders(rel))}
    records = manifest.files_at(wanted)
    hits = {rel for rel, record in records.items() if record.kind == "page"}
    index = records.get(INDEX)
    # static/sitemap.xml just removed: the generated sitemap takes its part names back.
    parts = (INDEX in generated and INDEX not in static and index is not None
             and index.kind == "static")
    if not hits and not parts:
        return set()
    by_file = manifest.page_files()
    if parts:
        hits |= {rel for rel in by_file if is_sitemap_file(rel)}
    return {by_file[rel] for rel in hits if rel in by_file}


def feed_not_generated(config: Config, manifest: Manifest, static: Iterable[str]) -> set[str]:
    """The feed's file when ssgen should generate it but did not write it last (a static
    file stood in for it until now): its route must be re-queried to write it."""
    if config.feed is None:
        return set()
    rel = str(url_to_file(config.feed.path))
    record = manifest.files_at([rel]).get(rel)
    stale = rel not in set(static) and (record is None or record.kind != "generated")
    return {rel} if stale else set()


def _all_folders(files: Iterable[str]) -> set[str]:
    """The folders of every one of ``files`` (``_folders``): a file with one ``/`` that
    is neither first nor last, the most common shape (``slug/index.html``), is cut here,
    without the cache's miss per file (~0.6 us: ~60 ms of 100k pages)."""
    found: set[str] = set()
    add = found.add
    for rel in files:
        cut = rel.find("/")
        if 0 < cut < len(rel) - 1 and rel.find("/", cut + 1) < 0 and "./" not in rel:
            add(rel[:cut])
        elif cut >= 0:
            found.update(_folders(rel))
    return found


@lru_cache(maxsize=1 << 18)
def _folders(rel: str) -> tuple[str, ...]:
    """The folders ``a/b``, ``a`` of ``a/b/c``, deepest first (string slicing: pathlib
    took 2 s of a one-edit build of 16k pages here)."""
    if "//" in rel or "./" in rel or rel.startswith("/") or rel.endswith("/"):
        return tuple(str(p) for p in PurePosixPath(rel).parents if str(p) != ".")
    found: list[str] = []
    cut = rel.rfind("/")
    while cut > 0:
        found.append(rel[:cut])
        cut = rel.rfind("/", 0, cut)
    return tuple(found)
