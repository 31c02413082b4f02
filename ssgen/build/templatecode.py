"""``.ssgen/templates.code``: the site's templates as earlier processes compiled them.

Owns the file and ``PersistedCode``, the Jinja2 bytecode cache a new process's renderer
uses while its build runs (``ssgen.build.fragfile.persisted_fragments``): compiling a
template (Jinja2's lexer, parser and code generator, then Python's ``compile``) costs
~2 ms for a one-line template in every new process, more for a page of includes. Jinja2
checks each entry against its template's source (SHA-1) and its own and Python's
versions; what it does not cover (ssgen's code generator, the environment's options and
filters, set by ssgen's code and the configuration) the file's key does: the fragments'
key (``store_key``: ssgen's code, the packages' and Python's versions, the
configuration's hash and every template's text). A damaged file, one of another key or
of another shape is ignored: the templates are compiled again, as without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from ssgen.build.sealed import read_sealed, write_sealed

MAGIC = b"ssgen-template-code-1\n"
FILE = "templates.code"


class PersistedCode(jinja2.BytecodeCache):
    """Compiled templates by Jinja2's bucket key, as loaded; ``added``: compiled since."""

    def __init__(self, entries: dict[str, bytes]) -> None:
        self.entries, self.added = entries, False

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Fill ``bucket`` from the entry of its key (Jinja2 checks it, see above)."""
        data = self.entries.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Keep what Jinja2 just compiled, to be saved."""
        self.entries[bucket.key] = bucket.bytecode_to_string()
        self.added = True


def load(path: Path, key: bytes) -> dict[str, bytes] | None:
    """The entries saved under ``key``; None when there are none to trust."""
    entries: dict[str, bytes] | None = read_sealed(path, MAGIC, key, _well_formed)
    return entries


def save(path: Path, key: bytes, entries: dict[str, bytes]) -> None:
    """Replace the file with ``entries`` under ``key``."""
    write_sealed(path, MAGIC, key, entries, "compiled templates")


def _well_formed(entries: Any) -> bool:
    return type(entries) is dict and all(type(name) is str and type(code) is bytes
                                         for name, code in entries.items())


__all__ = ["FILE", "MAGIC", "PersistedCode", "load", "save"]
