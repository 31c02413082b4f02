"""The only writer of the site: safe page paths and atomic write-if-changed output.

A package (``writer``: ``Output``; ``fileops``: one file's bytes; ``temps``: temp files
and sweeping them; ``staging``: a cold build's folder swapped in whole), re-exported
here. Owns everything that touches the output folder:

- ``url_to_file(path, route=None) -> PurePosixPath`` (``ssgen.routes.paths``, re-exported
  here): a page URL path to its file, rejecting anything that could name a file outside
  the output folder.
- ``Output(root, *, fsync=False)``: ``write(relpath, data) -> bool`` (temp file in the same
  folder + ``os.replace``; identical bytes leave the file and its mtime untouched and
  return False; ``put`` is the same returning ``(written, created)``),
  ``remove(relpath) -> bool`` (prunes emptied folders up to the root;
  ``prune(folders)`` for batches), ``copy_static(src) -> list[str]``,
  ``remove_stale(keep, owned) -> list[str]`` (deletes only files ssgen owns),
  ``sweep(relpaths) -> list[str]`` (dead writers' temp files beside them, now),
  ``read(relpath)`` and ``path(relpath)``.
- ``defer_frees(folder)`` / ``free_displaced()``: replaced files kept linked in a folder
  outside the output until freed (serve frees them after a round's replies: ``temps``;
  ``take_displaced()`` hands them over to be unlinked elsewhere).
- ``sha256(data) -> str``: the hex digest used for output hashes.
- ``staged(output_dir, on=...)``: a cold full build's staging folder, written without
  temp files and swapped in whole (``staging``); ``sweep_staging`` deletes dead builds'.

Every relpath is checked twice: lexically, and on disk, where each folder is checked
once per ``Output``: a folder made by ``mkdir`` or a real (non-symlink) folder under a
checked parent is inside the root; a symlinked folder must resolve inside the root.
Temp files that a killed process left behind are deleted the first time this process
writes into their folder; after that only ``sweep`` looks again (the build calls it for
the files a killed build or render worker was writing). OS errors become ``OutputError`` here.
"""

from __future__ import annotations

from ssgen.build.output.fileops import file_stat, sha256
from ssgen.build.output.staging import staged, sweep_staging
from ssgen.build.output.temps import TEMP_PREFIX, defer_frees, free_displaced, take_displaced
from ssgen.build.output.writer import Output
from ssgen.routes.paths import checked_relpath, safe_relpath, url_to_file, url_to_relpath

__all__ = ["TEMP_PREFIX", "Output", "checked_relpath", "defer_frees", "file_stat",
           "free_displaced", "safe_relpath", "sha256", "staged", "sweep_staging",
           "take_displaced", "url_to_file", "url_to_relpath"]
