"""What a build remembers of the last one, so that unchanged work is not done again.

``kept``: each route's last expansion in this process (pages a rebuild need not plan);
``datahash``: page data hashes, composed from the items hashed last time; ``carry``: the
route and planner memos a source snapshot carries to the next process; ``fragments``:
serve's hold on the include outputs new processes saved (``.ssgen/fragments.cache``),
which its rounds read. Every memo is of pure functions, checked by the identity of its
inputs (``fragments``: by their values), so a stale one is only unused.
"""
