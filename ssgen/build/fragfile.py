"""``.ssgen/fragments.cache``: the value-keyed include outputs a new process reuses.

Owns the file (one checksummed ``marshal`` dict, replaced atomically), its key and when it
is trusted. The key covers everything an include's output depends on besides the values
it reads (``ssgen.render.fragment_store``): every template's text, all of ssgen's
code and Jinja2's and MarkupSafe's versions (one digest, hashed again only when a file's
stamp changed: ``ssgen.sources.codestamp``), Python's version, and the configuration's
hash. A file with another key, a bad checksum or any read error is ignored, never half
used. A full build never reads it (it renders every fragment afresh) but writes what it
rendered, so the next new process starts warm. Entries not used by the last ``KEEP``
saves are dropped, so old versions of cards do not pile up. A full build takes the key
only when it has something to save (hashing ssgen's code and reading the package
versions cost ~20 ms of every start otherwise), and saves nothing if a template's text
changed while it ran.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ssgen.config.load import Config
from ssgen.errors import SsgenError
from ssgen.render import fragment_store
from ssgen.render.environment import Renderer
from ssgen.render.fragment_store import Entry, PersistedFragments
from ssgen.sources.atomic import write_atomic
from ssgen.sources.codestamp import code_digest

MAGIC = b"ssgen-fragments-2\n"
FILE = "fragments.cache"
KEEP = 64


@contextmanager
def persisted_fragments(config: Config, renderer: Renderer, *, full: bool) -> Iterator[None]:
    """Within the block, includes consult and fill the site's persisted fragments; on a
    normal exit what was rendered or used is saved."""
    path = config.state_dir / FILE
    texts = None if not full else _template_texts(renderer)
    key = None if full else store_key(config, renderer)
    entries, generation = ({}, 0) if key is None else load(path, key)
    store = PersistedFragments(entries, generation + 1, read=not full)
    fragment_store.activate(store)
    try:
        yield
    finally:
        fragment_store.activate(None)
    if not store.added:
        return
    if key is None:
        # Taken now: only valid for the entries if the templates are those they came from.
        key = store_key(config, renderer)
        if _template_texts(renderer) != texts:
            return
    save(path, key, store, entries)


def _template_texts(renderer: Renderer) -> list[tuple[str, str | None]]:
    # From the files: a template saved during the build must be seen (not the texts the
    # renderer answers for, which are those it read when the build began).
    return [(name, renderer.disk_source(name)) for name in renderer.list_templates()]


def store_key(config: Config, renderer: Renderer) -> bytes:
    """What every entry depends on besides the values its template reads. ssgen's code
    and the package versions through ``ssgen.sources.codestamp``: hashed only when a
    file's stamp changed since the last process hashed them (~270 files: ~50 ms)."""
    import jinja2
    import markupsafe

    digest = hashlib.blake2b(digest_size=16)
    for part in (sys.version, config.hash):
        digest.update(part.encode() + b"\0")
    digest.update(code_digest(config.state_dir, _versions,
                              watched=(jinja2.__file__ or "", markupsafe.__file__ or "")))
    for name in renderer.list_templates():
        digest.update(name.encode() + b"\0" + (renderer.disk_source(name) or "").encode()
                      + b"\0")
    return digest.digest()


def _versions() -> tuple[str, str]:
    from importlib.metadata import version  # ~10 ms of imports: only when the code is hashed

    return version("jinja2"), version("markupsafe")


def _checksum(body: bytes) -> bytes:
    # SHA-256: this CPU's SHA extensions hash it 2.5x faster than blake2b (28 MB at
    # 10,000 starter posts, hashed on every load and save).
    return hashlib.sha256(body).digest()


def load(path: Path, key: bytes) -> tuple[dict[bytes, Entry], int]:
    """The entries and save generation of the file at ``path`` if its key is ``key``;
    nothing when it is missing, another key's, damaged or unreadable."""
    try:
        data = path.read_bytes()
    except OSError:
        return {}, 0
    head = len(MAGIC)
    if data[:head] != MAGIC or data[head:head + 16] != key:
        return {}, 0
    checksum, body = data[head + 16:head + 48], data[head + 48:]
    if len(checksum) != 32 or _checksum(body) != checksum:
        return {}, 0
    try:
        generation, entries = marshal.loads(body)
    except (EOFError, ValueError, TypeError):
        return {}, 0
    if not isinstance(generation, int) or not isinstance(entries, dict):
        return {}, 0
    return entries, generation


def save(path: Path, key: bytes, store: PersistedFragments,
         loaded: dict[bytes, Entry]) -> None:
    """Write what the next process may reuse: this run's entries and the loaded ones
    used in the last ``KEEP`` saves. A failed write leaves no file to trust (it is only
    a cache: the build goes on)."""
    now = store.generation
    kept = {k: e for k, e in loaded.items() if e[2] > now - KEEP}
    for k in store.used & loaded.keys():
        entry = loaded[k]
        kept[k] = (entry[0], entry[1], now)
    kept.update(store.added)
    body = marshal.dumps((now, kept))
    blob = MAGIC + key + _checksum(body) + body
    try:
        write_atomic(path, blob, "fragment cache", durable=False)
    except SsgenError:
        path.unlink(missing_ok=True)
