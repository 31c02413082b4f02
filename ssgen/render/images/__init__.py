"""Sanity image URLs: ``url`` builds image-API URLs; ``crop`` holds the crop and hotspot
maths, shared with any renderer of the same parameters."""
