"""Link checking of the built output: every internal ``href``, ``src``, ``srcset`` and
``#fragment`` (and, when asked, external URLs), full or incremental.

- ``extract``: the links and fragment ids of one HTML file (selectolax's lexbor parser).
- ``resolve``: pure URL logic: a link as seen from a page -> internal path, external URL
  or nothing to check; the output files a path may name.
- ``check``: the check over the output folder and the manifest's link graph
  (``check_links``): full, or only the files a build wrote plus the files that link to
  paths that appeared, disappeared or lost an id. Returns a ``LinkReport``.
- ``external``: concurrent external checks with httpx, a limit per host, a TTL cache.
- ``report``: ``LinkReport`` and ``BrokenLink``, and where a link came from in the templates.

Sits between ``ssgen.build`` (``build --check``) and ``ssgen.manifest`` (the link graph).
"""

from ssgen.links.check import Changes, check_links
from ssgen.links.external import LinkOptions
from ssgen.links.report import BrokenLink, LinkReport

__all__ = ["BrokenLink", "Changes", "LinkOptions", "LinkReport", "check_links"]
