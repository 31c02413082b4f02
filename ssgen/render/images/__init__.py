"""Sanity images: ``url`` builds image-API URLs; ``crop`` holds the crop and hotspot
maths, shared by the URL builder and the local pipeline; ``variants`` names the local
variants a page uses (``/_img/...``) and records them; ``pillow`` renders a variant's
parameters with Pillow (bytes in, bytes out); ``responsive`` writes the
``responsive_image`` HTML (srcset, sizes, LQIP, <picture>)."""
