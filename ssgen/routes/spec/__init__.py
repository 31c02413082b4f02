"""Routes -> pages: expand one route's query results into `PageSpec`s with their tags (pure).

A package: ``expand`` owns the three route modes of docs/configuration.md (list,
single/paginated, ``each``) and per-page dependency tags; ``ids`` finds the document ids
a value holds; ``clash`` the duplicate-path check (``check_unique``: which page of a
clash is published, if any); ``datahash`` the stable hash of a page's data (path
patterns are ``patterns``'s, page values ``page``'s). Re-exported here.

Tag rules (see DESIGN.md, "Tag"):

- ``route:<name>`` on every page, plus the route's own ``tags`` with ``{field}`` filled
  from the item (list and ``each`` modes) or from the result object (single mode).
- ``type:<t>`` for each type the route's queries scan, ``type:*`` when a query may scan
  any type. List routes give these to every page too, so any change of those types
  re-queries the route; the build then diffs each page's data hash. An ``each``
  page's scans keyed by ``references()`` (``ssgen.groq.refkeyed``) are left out when
  the source reports what they looked up (``QueryResult.refs``): the page gets
  ``ref:<id>`` per id instead (their type tags when the ids are not reported).
- ``doc:<_id>`` for the documents a page depends on:
  single and paginated pages get every id the query read. A list route's page gets the
  ids found anywhere in its item (every ``_id`` key, at any depth) plus the
  *unattributed* ids: ids the query read that are not the top-level ``_id`` of any item
  (dereferenced documents whose ``_id`` was projected away, items whose ``_id`` was
  dropped). That is conservative: it can only add tags, never miss one. When there are
  more than ``UNATTRIBUTED_LIMIT`` of them (items projected without ``_id``: every item
  document is unattributed), they go to the route's first page only, to keep the tag
  count linear; the route's union of tags still holds every id (a page whose tags
  changed renders again, whatever its data: ``build.memo.datahash.tagged``), and the planner
  re-queries a whole route and diffs page data hashes. Keep ``_id`` in list-route
  projections for precise per-page tags. ``each`` pages
  get the ids their own query read plus the ``_id``s in their ``each`` item.
- ``global:<name>`` for every ``[data]`` query: in this version every page depends on
  every global (no template analysis).
- ``template:<file>`` tags are added by the build from ``Renderer.template_chain``.
"""

from __future__ import annotations

from ssgen.routes.spec.clash import Claimant, PathClash, check_unique
from ssgen.routes.spec.datahash import data_hash
from ssgen.routes.spec.expand import (
    NEIGHBOUR_KEYS,
    UNATTRIBUTED_LIMIT,
    each_params,
    expand_route,
)
from ssgen.routes.spec.ids import find_ids, walk_ids

__all__ = [
    "NEIGHBOUR_KEYS",
    "UNATTRIBUTED_LIMIT",
    "Claimant",
    "PathClash",
    "check_unique",
    "data_hash",
    "each_params",
    "expand_route",
    "find_ids",
    "walk_ids",
]
