"""Rendering, pure: the Jinja2 environment and filters, Markdown, Portable Text, image URLs,
and the generated files (sitemap, feed, robots).

``environment`` holds the ``Renderer``; ``filters`` the template filters; ``generated``
the built-in templates' pages; ``markdown``, ``portabletext`` and ``images`` the content
formats; ``text`` small string helpers. May import routes, config, errors.
"""
