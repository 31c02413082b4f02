"""Portable Text -> HTML, as @portabletext/to-html does with default components.

``tree`` nests blocks into lists and spans into marks; ``html`` serialises the tree.
"""
