"""``find_clashes``' set-operation fast path (``_may_clash``, ``_all_folders``) finds what
the page-by-page look finds: the look as it was before the fast path is kept here as the
reference, and both are run on generated sites of page files, static and generated
files and recorded pages (nested folders, dots, sitemap names, odd slashes)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.build import clash
from ssgen.build.clash import _all_folders, _folders, _owner_of, find_clashes
from ssgen.manifest.schema import FileRecord


class _Manifest:
    """The one manifest read ``find_clashes`` makes: the recorded files at some paths."""

    def __init__(self, pages: Iterable[str]) -> None:
        self.pages = set(pages)

    def files_at(self, wanted: Iterable[str]) -> dict[str, FileRecord]:
        return {rel: FileRecord(rel, "h", "page") for rel in wanted if rel in self.pages}


def _reference(manifest: _Manifest, files: Mapping[str, str], static: Iterable[str],
               generated: Iterable[str]) -> dict[str, str]:
    """``find_clashes`` before its fast path (round 15's code)."""
    owners = {rel: f"static/{rel}" for rel in static}
    owners.update({rel: f"the generated {rel}" for rel in generated if rel not in owners})
    owner = _owner_of(owners)
    folders = {folder: who for rel, who in owners.items() for folder in _folders(rel)}
    pages = {file: path for path, file in files.items()}
    wanted = {folder for file in pages for folder in _folders(file)
              if "." in folder.rpartition("/")[2]} - pages.keys()
    recorded = {rel for rel, record in manifest.files_at(wanted).items() if record.kind == "page"}
    failed: dict[str, str] = {}
    for file, path in sorted(pages.items()):
        if (who := owner(file)) is not None:
            failed[path] = f"{who} is written to {file}, the file of this page"
        elif file in folders:
            failed[path] = f"{folders[file]} needs {file} as a folder, the file of this page"
        else:
            for folder in _folders(file):
                other = owner(folder) or (
                    f"the page {pages[folder]}" if folder in pages
                    else "another page" if folder in recorded else None)
                if other is not None:
                    failed[path] = f"its file {file} needs {folder} as a folder, which is " \
                                   f"the file of {other}"
                    break
    return {path: f"output clash: {why}; change the route's path or the slug"
                  + (f", {clash._SITEMAP_FIX}" if clash._SITEMAP_OWNER in why else "")
            for path, why in failed.items()}


_SEGMENT = st.sampled_from(["a", "b", "a.html", "index.html", "x.y", "sitemap-2.xml",
                            "sitemap.xml", "feed.xml", "robots.txt", ".", ""])
_REL = st.lists(_SEGMENT, min_size=1, max_size=4).map("/".join)


@settings(max_examples=300)
@given(files=st.lists(_REL, max_size=8), static=st.lists(_REL, max_size=3),
       sitemap=st.booleans(), recorded=st.lists(_REL, max_size=3))
def test_the_fast_path_finds_what_the_page_by_page_look_finds(
        files: list[str], static: list[str], sitemap: bool, recorded: list[str]) -> None:
    pages = {f"/p{i}/": rel for i, rel in enumerate(files)}
    generated = {"robots.txt", "feed.xml"} | ({"sitemap.xml"} if sitemap else set())
    manifest = _Manifest(recorded)
    got = find_clashes(manifest, pages, static, generated)  # type: ignore[arg-type]
    assert got == _reference(manifest, pages, static, generated)
    assert list(got) == list(_reference(manifest, pages, static, generated))


@given(st.lists(st.sampled_from(["a", "b.c", ".", "", "sitemap-1.xml"]), max_size=5)
       .map("/".join))
def test_all_folders_are_those_of_each_file(rel: str) -> None:
    assert _all_folders([rel]) == set(_folders(rel))


def test_a_page_that_is_another_pages_folder_is_found() -> None:
    # The fast path's own case: no static or generated file is involved at all.
    pages = {"/a.html/": "a.html/index.html", "/a.html": "a.html"}
    got = find_clashes(_Manifest(()), pages, {}, {"robots.txt"})  # type: ignore[arg-type]
    assert list(got) == ["/a.html/"] and "the file of the page /a.html" in got["/a.html/"]
