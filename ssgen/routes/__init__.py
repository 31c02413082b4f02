"""Routes -> page specs, pure: path patterns, pagination, tags, URL path -> file mapping.

``spec`` expands a route's query results into ``PageSpec`` values with their tags;
``patterns`` fills ``{slug}``-style path patterns; ``paginate`` splits lists into pages;
``paths`` maps URL paths to output files and refuses unsafe ones; ``reuse`` keeps a list
route's last pages and ``patch`` moves them along a maintained query's delta.
May import groq, errors. Never touches disk, network or clock.
"""
