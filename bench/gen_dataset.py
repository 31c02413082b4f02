"""Generate a deterministic, Sanity-shaped blog dataset (the format of a `sanity dataset export`).

Owns the shape of the bundled demo content: posts with Portable Text bodies, authors and
categories by reference, image references with matching ``sanity.imageAsset`` documents,
a site settings document, an unpublished draft and a draft of a published post. The same
seed and size always give the same bytes, so the default site's ``content/dataset.ndjson``
is this script's output and benchmarks can generate 1k/10k/100k-document datasets of the
same shape:

    python bench/gen_dataset.py --out content/dataset.ndjson            # the default site
    python bench/gen_dataset.py --docs 10000 --out bench/out/10k.ndjson  # a benchmark dataset
    python bench/gen_dataset.py --starter --out ssgen/cli/scaffold/content/dataset.ndjson

With an asset pool (``--assets``: the ``sanity.imageAsset`` documents of real image files,
as ``scripts/make_starter_images.py`` writes them) portraits and covers reuse the pool's
assets in turn instead of naming made-up ones, and each pooled cover keeps one crop and
hotspot; the text is the same as without a pool.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

Doc = dict[str, Any]

PROJECT_ID = "demo1234"
DATASET = "production"
BASE_TIME = datetime(2023, 1, 9, 8, 30, tzinfo=UTC)

AUTHORS = [
    ("Maya Okafor", "Maya edits the engineering blog and writes about content modelling.",
     "Before that she ran the newsroom's CMS migration, twice."),
    ("Tomás Lindqvist", "Tomás builds deployment pipelines and is fond of boring technology.",
     "He keeps a list of every outage he has caused, and what it taught him."),
    ("Priya Raman", "Priya works on performance, caching and everything between them.",
     "Ask her about cache keys at your own risk."),
    ("Jonah Whitfield", "Jonah designs interfaces and argues for semantic HTML.",
     "He tests every layout on the oldest phone in the office."),
    ("Aiko Tanaka", "Aiko writes about editorial workflows and the people behind them.",
     "She has reviewed more drafts than anyone else on the team."),
]
CATEGORIES = [
    ("Engineering", "How the site is built, tested and shipped."),
    ("Content Modelling", "Schemas, references and structured content that lasts."),
    ("Performance", "Making pages fast and keeping them fast."),
    ("Design", "Typography, layout and accessible interfaces."),
    ("Operations", "Hosting, caching, deploys and the things that page you at night."),
    ("Editorial", "Writing, reviewing and publishing with a team."),
]
TITLES = [
    "Why we moved our blog to static hosting",
    "Incremental builds without the magic",
    "Modelling authors as references, not strings",
    "A field guide to Portable Text",
    "What a webhook should do in under a second",
    "Caching HTML at the edge without fear",
    "Designing a reading measure that works on phones",
    "The case for boring deploys",
    "How we review drafts before they go live",
    "Image crops, hotspots and responsive pictures",
    "Writing GROQ queries you can read a month later",
    "Dark mode with one stylesheet",
    "Sitemaps, feeds and the small things crawlers need",
    "Measuring build times honestly",
    "Slugs are forever: handling renames",
    "Structured content for a small team",
    "Keeping a style guide next to the code",
    "From CMS change to CDN in seconds",
    "Testing templates like any other code",
    "Pagination that does not break links",
    "The hidden cost of client-side rendering",
    "Accessible navigation in ten lines of HTML",
    "Planning a content migration",
    "Choosing what to cache and for how long",
    "Editorial calendars that people actually use",
    "Atomic writes and why half a page is worse than none",
    "Fonts, performance and the system font stack",
    "Tagging pages so revalidation stays small",
    "Running a static site generator on a tiny VM",
    "Category pages that earn their place",
    "Previewing drafts without a second site",
    "What we learned from our 404 logs",
    "Syntax highlighting without JavaScript",
    "Making the archive useful again",
    "A checklist for publishing a post",
    "Observability for a site made of files",
    "Dependencies we removed this year",
    "Writing alt text that helps",
    "Release notes for the new site",
    "A year of incremental static regeneration",
]
SUBJECTS = [
    "The build", "Our editorial team", "A small cache", "The webhook handler", "Every page",
    "The content model", "A reference", "The CDN", "The template layer", "The archive",
    "A careful deploy", "The query layer", "Each author page", "The feed",
]
VERBS = [
    "depends on", "should never hide", "quietly rewrites", "makes room for", "keeps track of",
    "turns out to simplify", "rarely needs", "benefits from", "pays for", "protects",
]
OBJECTS = [
    "the documents it reads", "a predictable URL", "fewer moving parts", "a clear error message",
    "the pages that changed", "readable markup", "the people who write for it",
    "a single source of truth", "the last good version", "a short feedback loop",
    "structured content", "the reader's time", "a stable slug", "small, boring files",
]
TAILS = [
    "and that is most of the trick", "which is easy to forget under a deadline",
    "even when nobody is watching", "so the next person can follow it",
    "without a second database", "long after the launch", "on a two-core machine",
    "which is why we measure it", "and the logs prove it", "at least in our experience",
]
LINKS = [
    "https://www.sanity.io/docs/groq", "https://portabletext.org/",
    "https://developer.mozilla.org/en-US/docs/Web/HTML", "https://www.w3.org/WAI/",
    "https://jinja.palletsprojects.com/", "https://web.dev/articles/vitals",
]
HEADINGS = [
    "Start with the data", "Where the time goes", "A smaller first step", "What the editors see",
    "Measure before you change", "The part nobody mentions", "Failure modes", "Trade-offs",
]
CONDITIONS = [
    "When a document changes", "If the deploy fails", "Once the slug is published",
    "Before the launch", "After a busy week of edits", "As the archive grows",
]
CODE_WORDS = ["ssgen build", "publishedAt", "slug.current", "revalidateTag", "index.html",
              "Cache-Control", "ssgen serve", "_updatedAt"]
SIZES = [(2400, 1600), (1920, 1280), (1600, 1200), (3000, 2000), (1200, 1200)]


class Gen:
    """A seeded source of ids, keys, timestamps and English-looking text.

    ``pool``: real asset documents by kind (``"portrait"``, ``"cover"``) handed out in turn
    instead of made-up ones (the random draws still happen, so the text stays the same).
    """

    def __init__(self, seed: int, pool: dict[str, list[Doc]] | None = None) -> None:
        self.rng = random.Random(seed)
        self.pool = pool or {}
        self.taken: dict[str, int] = {}
        self.framing: dict[str, tuple[Doc, Doc]] = {}  # pooled asset id -> (crop, hotspot)

    def pooled(self, kind: str) -> Doc | None:
        """The next pooled asset of ``kind`` (None without a pool)."""
        assets = self.pool.get(kind)
        if not assets:
            return None
        n = self.taken.get(kind, 0)
        self.taken[kind] = n + 1
        return assets[n % len(assets)]

    def key(self) -> str:
        return f"{self.rng.getrandbits(48):012x}"

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def rev(self) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        return "".join(self.rng.choice(alphabet) for _ in range(22))

    def sentence(self) -> str:
        r = self.rng
        subject = r.choice(SUBJECTS)
        if r.random() < 0.25:
            subject = f"{r.choice(CONDITIONS)}, {subject[0].lower()}{subject[1:]}"
        text = f"{subject} {r.choice(VERBS)} {r.choice(OBJECTS)}"
        if r.random() < 0.6:
            text += f", {r.choice(TAILS)}"
        return text + "."

    def sentences(self, n: int) -> str:
        return " ".join(self.sentence() for _ in range(n))


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("á", "a")).strip("-")


def span(g: Gen, text: str, marks: list[str] | None = None) -> Doc:
    return {"_type": "span", "_key": g.key(), "text": text, "marks": marks or []}


def block(g: Gen, children: list[Doc], style: str = "normal", **extra: Any) -> Doc:
    mark_defs = extra.pop("markDefs", [])
    return {"_type": "block", "_key": g.key(), "style": style, "markDefs": mark_defs,
            "children": children, **extra}


def paragraph(g: Gen, n: int = 3) -> Doc:
    return block(g, [span(g, g.sentences(n))])


def rich_paragraph(g: Gen) -> Doc:
    """A paragraph exercising strong, em, code and a link annotation."""
    link = {"_type": "link", "_key": g.key(), "href": g.rng.choice(LINKS)}
    children = [
        span(g, g.sentence() + " "),
        span(g, "Read the reference", [link["_key"]]),
        span(g, " before you change "),
        span(g, g.rng.choice(CODE_WORDS), ["code"]),
        span(g, "; it is "),
        span(g, "shorter", ["strong"]),
        span(g, " than you "),
        span(g, "think", ["em"]),
        span(g, ". " + g.sentence()),
    ]
    return block(g, children, markDefs=[link])


def list_blocks(g: Gen, kind: str) -> list[Doc]:
    """A list with a nested second level under its second item."""
    items = []
    for i in range(g.rng.randint(3, 4)):
        items.append(block(g, [span(g, g.sentence())], listItem=kind, level=1))
        if i == 1:
            for _ in range(2):
                items.append(block(g, [span(g, g.sentence())], listItem="bullet", level=2))
    return items


def image_ref(asset_id: str) -> Doc:
    return {"_type": "reference", "_ref": asset_id}


def post_body(g: Gen, inline_asset: str) -> list[Doc]:
    heading = g.rng.choice(HEADINGS)
    quote = block(g, [span(g, g.sentence() + " " + g.sentence())], style="blockquote")
    figure = {"_type": "image", "_key": g.key(), "asset": image_ref(inline_asset),
              "alt": "A diagram that illustrates the section above",
              "caption": g.sentence()}
    return [
        paragraph(g, 4),
        block(g, [span(g, heading)], style="h2"),
        rich_paragraph(g),
        *list_blocks(g, "bullet"),
        paragraph(g, 3),
        figure,
        block(g, [span(g, "What we would do again")], style="h3"),
        *list_blocks(g, "number"),
        quote,
        block(g, [span(g, "Where this leaves us")], style="h2"),
        paragraph(g, 4),
    ]


def asset_doc(g: Gen, created: datetime, name: str, kind: str = "cover") -> Doc:
    doc = made_up_asset(g, created, name)
    return g.pooled(kind) or doc


def made_up_asset(g: Gen, created: datetime, name: str) -> Doc:
    sha = f"{g.rng.getrandbits(160):040x}"
    w, h = g.rng.choice(SIZES)
    asset_id = f"image-{sha}-{w}x{h}-jpg"
    path = f"images/{PROJECT_ID}/{DATASET}/{sha}-{w}x{h}.jpg"
    return {
        "_id": asset_id, "_type": "sanity.imageAsset", "_rev": g.rev(),
        "_createdAt": iso(created), "_updatedAt": iso(created),
        "assetId": sha, "extension": "jpg", "mimeType": "image/jpeg",
        "originalFilename": f"{name}.jpg", "path": path, "sha1hash": sha,
        "size": g.rng.randint(180_000, 900_000), "uploadId": g.key(),
        "url": f"https://cdn.sanity.io/{path}",
        "metadata": {
            "_type": "sanity.imageMetadata", "hasAlpha": False, "isOpaque": True,
            "dimensions": {"_type": "sanity.imageDimensions", "width": w, "height": h,
                           "aspectRatio": w / h},
        },
    }


def main_image(g: Gen, asset_id: str, alt: str) -> Doc:
    r = g.rng
    top, left = round(r.uniform(0, 0.1), 3), round(r.uniform(0, 0.1), 3)
    crop = {"_type": "sanity.imageCrop", "top": top, "bottom": round(r.uniform(0, 0.1), 3),
            "left": left, "right": round(r.uniform(0, 0.1), 3)}
    hotspot = {"_type": "sanity.imageHotspot", "x": round(r.uniform(0.3, 0.7), 3),
               "y": round(r.uniform(0.3, 0.7), 3), "width": 0.4, "height": 0.4}
    if g.pool:  # a shared real asset keeps one framing, so its variants are shared too
        crop, hotspot = g.framing.setdefault(asset_id, (crop, hotspot))
    return {"_type": "image", "asset": image_ref(asset_id), "alt": alt,
            "crop": dict(crop), "hotspot": dict(hotspot)}


def system(g: Gen, doc_id: str, doc_type: str, created: datetime, updated: datetime) -> Doc:
    return {"_id": doc_id, "_type": doc_type, "_rev": g.rev(),
            "_createdAt": iso(created), "_updatedAt": iso(updated)}


def make_categories(g: Gen, n: int) -> list[Doc]:
    docs = []
    for i in range(n):
        title, desc = CATEGORIES[i % len(CATEGORIES)]
        if i >= len(CATEGORIES):
            title = f"{title} {i // len(CATEGORIES) + 1}"
        doc = system(g, g.uuid(), "category", BASE_TIME, BASE_TIME)
        doc.update(title=title, slug={"_type": "slug", "current": slugify(title)},
                   description=desc)
        docs.append(doc)
    return docs


def make_authors(g: Gen, n: int, assets: list[Doc]) -> list[Doc]:
    docs = []
    for i in range(n):
        name, bio, more = AUTHORS[i % len(AUTHORS)]
        if i >= len(AUTHORS):
            name = f"{name} {i // len(AUTHORS) + 1}"
        asset = asset_doc(g, BASE_TIME, slugify(name), "portrait")
        assets.append(asset)
        doc = system(g, g.uuid(), "author", BASE_TIME, BASE_TIME + timedelta(days=i))
        doc.update(
            name=name, slug={"_type": "slug", "current": slugify(name)},
            image={"_type": "image", "asset": image_ref(asset["_id"]),
                   "alt": f"Portrait of {name}"},
            bio=[block(g, [span(g, bio)]), block(g, [span(g, more)])],
        )
        docs.append(doc)
    return docs


def post_title(i: int) -> str:
    title = TITLES[i % len(TITLES)]
    return title if i < len(TITLES) else f"{title}, part {i // len(TITLES) + 1}"


def make_post(
    g: Gen, i: int, authors: list[Doc], cats: list[Doc], asset_ids: list[str]
) -> tuple[Doc, Doc]:
    """Post number ``i`` and its cover image asset (``asset_ids`` gains the cover)."""
    title = post_title(i)
    published = BASE_TIME + timedelta(days=3 * i, hours=g.rng.randint(0, 9), minutes=7 * (i % 8))
    cover = asset_doc(g, published - timedelta(days=1), slugify(title))
    asset_ids.append(cover["_id"])
    inline = g.rng.choice(asset_ids)
    doc = system(g, g.uuid(), "post", published - timedelta(days=2),
                 published + timedelta(days=g.rng.randint(0, 30), hours=2))
    chosen = g.rng.sample(cats, k=min(len(cats), g.rng.randint(1, 3)))
    doc.update(
        title=title, slug={"_type": "slug", "current": slugify(title)},
        publishedAt=iso(published), excerpt=g.sentences(2),
        author={"_type": "reference", "_ref": g.rng.choice(authors)["_id"]},
        categories=[{"_type": "reference", "_key": g.key(), "_ref": c["_id"]} for c in chosen],
        mainImage=main_image(g, cover["_id"], f"Cover image for “{title}”"),
        body=post_body(g, inline),
    )
    return cover, doc


def make_settings(g: Gen, cats: list[Doc]) -> Doc:
    doc = system(g, "siteSettings", "siteSettings", BASE_TIME, BASE_TIME)
    nav = [("Blog", "/blog/"), ("About", "/about/"), ("Uses", "/uses/"),
           ("Docs", "/getting-started/")]
    if cats:
        nav.append((cats[0]["title"], f"/categories/{cats[0]['slug']['current']}/"))
    doc.update(
        title="Field Notes",
        description="Notes on building, running and writing for a content-driven website.",
        navigation=[{"_type": "navItem", "_key": g.key(), "title": t, "href": h} for t, h in nav],
    )
    return doc


def make_drafts(g: Gen, newest: Doc, count: int, authors: list[Doc], cats: list[Doc],
                asset_ids: list[str]) -> list[Doc]:
    """An unpublished draft (with its cover asset), and a draft edit of the newest post."""
    cover, fresh = make_post(g, count, authors, cats, asset_ids)
    fresh["_id"] = f"drafts.{fresh['_id']}"
    fresh["title"] = "Notes towards a content roadmap"
    fresh["slug"] = {"_type": "slug", "current": "notes-towards-a-content-roadmap"}
    edited = json.loads(json.dumps(newest))
    edited["_id"] = f"drafts.{edited['_id']}"
    edited["_rev"] = g.rev()
    edited["title"] += " (revised)"
    edited["excerpt"] = "A draft revision: " + edited["excerpt"]
    return [cover, fresh, edited]


def iter_documents(
    posts: int = 40, authors: int = 5, categories: int = 6, seed: int = 7,
    pool: dict[str, list[Doc]] | None = None,
) -> Iterator[Doc]:
    """Every document of the dataset, in a stable order, one at a time (100k docs stream);
    a pooled asset is written once, where it is first used."""
    seen: set[str] = set()
    for doc in _documents(posts, authors, categories, seed, pool):
        if doc["_type"] == "sanity.imageAsset":
            if doc["_id"] in seen:
                continue
            seen.add(doc["_id"])
        yield doc


def _documents(posts: int, authors: int, categories: int, seed: int,
               pool: dict[str, list[Doc]] | None) -> Iterator[Doc]:
    if posts < 1 or authors < 1 or categories < 1:
        raise ValueError("posts, authors and categories must each be at least 1")
    g = Gen(seed, pool)
    cats = make_categories(g, categories)
    yield make_settings(g, cats)
    yield from cats
    portraits: list[Doc] = []
    people = make_authors(g, authors, portraits)
    yield from portraits
    yield from people
    asset_ids = [a["_id"] for a in portraits]
    newest: Doc = {}
    for i in range(posts):
        cover, newest = make_post(g, i, people, cats, asset_ids)
        yield cover
        yield newest
    yield from make_drafts(g, newest, posts, people, cats, asset_ids)


def generate(posts: int = 40, authors: int = 5, categories: int = 6, seed: int = 7,
             pool: dict[str, list[Doc]] | None = None) -> list[Doc]:
    """Every document of the dataset as a list (see `iter_documents`)."""
    return list(iter_documents(posts, authors, categories, seed, pool))


def read_pool(path: Path) -> dict[str, list[Doc]]:
    """The asset pool in an NDJSON file of ``sanity.imageAsset`` documents (a dataset's own
    asset documents do: other documents are ignored), by kind: square images are portraits."""
    pool: dict[str, list[Doc]] = {"portrait": [], "cover": []}
    for line in path.read_text(encoding="utf-8").splitlines():
        doc = json.loads(line) if line.strip() else {}
        if doc.get("_type") == "sanity.imageAsset":
            dims = doc["metadata"]["dimensions"]
            pool["portrait" if dims["width"] == dims["height"] else "cover"].append(doc)
    return pool


def starter_documents(pool: dict[str, list[Doc]] | None = None) -> list[Doc]:
    """The small dataset of the `ssgen init` scaffold (ssgen/cli/scaffold/content/dataset.ndjson)."""
    docs = generate(posts=3, authors=1, categories=2, seed=11, pool=pool)
    nav = [("nav-posts", "Posts", "/"), ("nav-about", "About", "/about/")]
    docs[0].update(
        title="My new site",
        description="A site made with ssgen init.",
        navigation=[{"_type": "navItem", "_key": k, "title": t, "href": h} for k, t, h in nav],
    )
    return docs


def sizes_for(docs: int) -> tuple[int, int, int]:
    """Posts, authors and categories that give about ``docs`` documents (two per post)."""
    authors = max(1, docs // 200)
    categories = max(1, docs // 150)
    posts = max(1, (docs - 2 * authors - categories - 3) // 2)
    return posts, authors, categories


def write_ndjson(docs: Iterable[Doc], out: Path) -> int:
    """Write ``docs`` one a line to ``out``; returns how many were written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        for doc in docs:
            fh.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=None, help="file to write (default stdout)")
    parser.add_argument("--docs", type=int, default=None, help="approximate total documents")
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--authors", type=int, default=5)
    parser.add_argument("--categories", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--starter", action="store_true", help="the `ssgen init` dataset")
    parser.add_argument("--assets", type=Path, default=None,
                        help="NDJSON of sanity.imageAsset documents to use as the asset pool")
    args = parser.parse_args(argv)
    posts, authors, cats = (sizes_for(args.docs) if args.docs
                            else (args.posts, args.authors, args.categories))
    pool = read_pool(args.assets) if args.assets else None
    docs = (starter_documents(pool) if args.starter
            else iter_documents(posts, authors, cats, args.seed, pool))
    if args.out is None:
        for doc in docs:
            sys.stdout.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
    else:
        count = write_ndjson(docs, args.out)
        print(f"wrote {count} documents to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
