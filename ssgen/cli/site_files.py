"""``ssgen clean`` and ``ssgen new``: remove what builds made, and start a Markdown document.

``clean`` removes only the two folders ssgen owns, both named by the configuration: the
output folder (``[site] output``) and ``.ssgen/`` (the manifest). It refuses an output
folder that is not strictly inside the site folder, that holds the site's own files, or
that another build is writing. ``new`` writes ``<markdown_dir>/[<type>/]<slug>.md`` with
front matter, like ``hugo new content``, and never overwrites a file.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from ssgen.cli.common import Options, err_console, fail, load_site
from ssgen.errors import ConfigError, SsgenError

if TYPE_CHECKING:
    from ssgen.config.load import Config

# A folder holding one of these is a site or a repository, never build output.
_SITE_MARKERS = ("ssgen.toml", ".git", "templates", "content")


def clean_command(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="Say what would be removed; remove nothing.")
    ] = False,
) -> None:
    """Remove the output folder and .ssgen/ (the next build is a full one)."""
    from ssgen.manifest.lock import BuildLock, BuildLockBusy

    options: Options = ctx.obj
    try:
        config = load_site(options)
        targets = clean_targets(config.site_dir, config.output_dir, config.state_dir)
        if dry_run:
            for target in targets:
                print(f"would remove {_shown(config.site_dir, target)}/")
            return
        lock = BuildLock(config.site_dir, wait=False)
        try:
            lock.acquire()
        except BuildLockBusy as exc:
            raise ConfigError("a build of this site is running: clean after it ends") from exc
        try:
            for target in targets:
                shutil.rmtree(target)
            if config.state_dir.resolve() not in targets:  # made by the lock just taken
                shutil.rmtree(config.state_dir, ignore_errors=True)
        except OSError as exc:
            raise ConfigError(f"cannot remove {exc.filename}: {exc.strerror or exc}") from exc
        finally:
            lock.release()
    except SsgenError as exc:
        raise fail(exc) from exc
    shown = " and ".join(f"{_shown(config.site_dir, t)}/" for t in targets)
    options.reporter().info(f"removed {escape(shown)}" if targets else "nothing to clean")


def clean_targets(site_dir: Path, output_dir: Path, state_dir: Path) -> list[Path]:
    """The folders ``clean`` removes (those that exist); ConfigError for an unsafe output."""
    site = site_dir.resolve()
    output = output_dir.resolve()
    if output == site or not output.is_relative_to(site):
        raise ConfigError(f"[site] output is {output}: clean removes only a folder inside the "
                          f"site folder {site}; remove it yourself if you mean to")
    if output_dir.is_symlink():
        raise ConfigError(f"{output_dir} is a symbolic link: remove it yourself if you mean to")
    markers = [name for name in _SITE_MARKERS if (output / name).exists()]
    if markers:
        raise ConfigError(f"{output} holds {markers[0]}: it does not look like build output, "
                          "so clean leaves it alone")
    return [path for path in (output, state_dir.resolve()) if path.is_dir()]


def _shown(site_dir: Path, path: Path) -> str:
    return path.relative_to(site_dir.resolve()).as_posix()


def new_command(
    ctx: typer.Context,
    doc_type: Annotated[str, typer.Argument(metavar="TYPE", help="The document _type, e.g. post.")],
    title: Annotated[str, typer.Argument(metavar="TITLE", help="The title, e.g. \"Hello world\".")],
    slug: Annotated[
        str | None, typer.Option("--slug", metavar="SLUG", help="URL slug (default: from TITLE).")
    ] = None,
) -> None:
    """Create a Markdown document with front matter under the content folder."""
    from ssgen.render.text import slugify

    options: Options = ctx.obj
    try:
        config = load_site(options)
        folder = _markdown_folder(config)
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", doc_type):
            raise ConfigError(f"type {doc_type!r}: use letters, digits, _ and - (e.g. post)")
        name = slug or slugify(title)
        if not name or "/" in name or name.startswith("."):
            raise ConfigError(f"cannot make a file name of {name!r}: pass --slug")
        default = doc_type == config.source.markdown_type
        path = (folder if default else folder / doc_type) / f"{name}.md"
        text = new_document(doc_type, title, name, _date_field(config), datetime.now(UTC),
                            typed=not default)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as file:
                file.write(text)
        except FileExistsError as exc:
            raise ConfigError(f"{path} already exists: edit it, or pass --slug") from exc
        except OSError as exc:
            raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except SsgenError as exc:
        raise fail(exc) from exc
    err_console.print(f"created {escape(str(path.relative_to(config.site_dir)))}",
                      highlight=False)


def new_document(doc_type: str, title: str, slug: str, date_field: str, now: datetime,
                 *, typed: bool) -> str:
    """The Markdown text of a new document: YAML front matter (JSON-quoted strings, valid
    YAML) and an empty body."""
    lines = ["---"]
    if typed:
        lines.append(f"_type: {doc_type}")
    lines += [
        f"title: {json.dumps(title, ensure_ascii=False)}",
        f"slug: {json.dumps(slug)}",
        f"{date_field}: {now.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        "---",
        "",
        "",
    ]
    return "\n".join(lines)


def _markdown_folder(config: Config) -> Path:
    source = config.source
    if source.type != "local" or not source.markdown_dir:
        raise ConfigError("ssgen new writes Markdown for the local source; this site reads "
                          f"{source.type!r} content with no markdown_dir: create documents "
                          "where the content lives (e.g. Sanity Studio)")
    return config.site_dir / source.markdown_dir


def _date_field(config: Config) -> str:
    return config.feed.date_field if config.feed is not None else "publishedAt"
