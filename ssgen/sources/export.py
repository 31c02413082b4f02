"""Reading a ``sanity dataset export`` archive (.tar.gz) directly, without unpacking it.

Owns undoing the export's asset rewriting: ``{"_sanityAsset": "image@file://./images/
<sha1>-<w>x<h>.<ext>"}`` becomes ``{"asset": {"_type": "reference", "_ref":
"image-<sha1>-<w>x<h>-<ext>"}}`` again, and the ``sanity.imageAsset`` /
``sanity.fileAsset`` documents the export removed are synthesised (with ``assets.json``
metadata when present), so ``asset->`` and image URLs work as against the API.
"""

from __future__ import annotations

import io
import re
import zlib
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import orjson

from ssgen.errors import SourceError
from ssgen.sources.ndjson import Loaded, parse_ndjson

if TYPE_CHECKING:
    import tarfile

_ASSET = re.compile(r"(image|file)@file://\./(images|files)/([^/]+)")
_IMAGE_NAME = re.compile(r"([0-9a-zA-Z]+)-(\d+)x(\d+)\.([0-9a-zA-Z]+)")
_FILE_NAME = re.compile(r"([0-9a-zA-Z]+)\.([0-9a-zA-Z]+)")


def read_export(path: Path, display: str, *, project_id: str = "", dataset: str = "") -> Loaded:
    """The documents of an export archive, assets restored as references + asset docs."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{display}: cannot read: {exc.strerror or exc}") from exc
    return parse_export(data, display, project_id=project_id, dataset=dataset)


def parse_export(data: bytes, display: str, *, project_id: str = "", dataset: str = "") -> Loaded:
    """``read_export`` over the archive's bytes."""
    import tarfile  # here: ~1.5 ms of every Markdown site's build otherwise

    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            members = {m.name: m for m in archive.getmembers() if m.isfile()}
            data_name = _find(members, "data.ndjson", display)
            raw = _read_member(archive, members[data_name])
            assets_name = str(PurePosixPath(data_name).with_name("assets.json"))
            meta = orjson.loads(_read_member(archive, members[assets_name])) \
                if assets_name in members else {}
    except (OSError, tarfile.TarError, EOFError, zlib.error) as exc:
        raise SourceError(f"{display}: not a readable .tar.gz export ({exc})") from exc
    except orjson.JSONDecodeError as exc:
        raise SourceError(f"{display}: assets.json is not valid JSON ({exc})") from exc
    loaded = parse_ndjson(raw, f"{display}:{data_name}")
    restore_assets(loaded, meta if isinstance(meta, dict) else {}, project_id, dataset)
    return loaded


def restore_assets(loaded: Loaded, meta: dict[str, Any], project_id: str, dataset: str) -> None:
    """Rewrite ``_sanityAsset`` fields in place and append the asset documents they name
    (unless the dataset already has them)."""
    assets: dict[str, dict[str, Any]] = {}
    loaded.documents[:] = [_restore(doc, assets) for doc in loaded.documents]
    present = {doc["_id"] for doc in loaded.documents} if assets else set()
    for asset_id in sorted(assets):
        asset = assets[asset_id]
        _complete_asset(asset, meta, project_id, dataset)
        if asset_id not in present:
            loaded.documents.append(asset)


def _find(members: dict[str, tarfile.TarInfo], name: str, display: str) -> str:
    candidates = sorted((n for n in members if PurePosixPath(n).name == name),
                        key=lambda n: (len(PurePosixPath(n).parts), n))
    if not candidates:
        raise SourceError(f"{display}: no {name} in the archive: expected the output of "
                          "`sanity dataset export` (<dataset>-export-<date>/data.ndjson)")
    return candidates[0]


def _read_member(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = archive.extractfile(member)
    if handle is None:
        import tarfile

        raise tarfile.TarError(f"cannot read {member.name}")
    with handle:
        return handle.read()


def _restore(value: Any, assets: dict[str, dict[str, Any]]) -> Any:
    """``value`` with every ``_sanityAsset`` turned back into an ``asset`` reference
    (the same object when there was none, so large exports are not copied)."""
    if isinstance(value, list):
        items = [_restore(item, assets) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    changed = False
    for key, item in value.items():
        ref = _asset_ref(item, assets) if key == "_sanityAsset" else None
        if ref is not None:
            out["asset"] = {"_type": "reference", "_ref": ref}
            changed = True
        else:
            out[key] = new = _restore(item, assets)
            changed = changed or new is not item
    return out if changed else value


def _asset_ref(spec: Any, assets: dict[str, dict[str, Any]]) -> str | None:
    """The asset id of an ``image@file://./images/...`` string, registering its document."""
    match = _ASSET.fullmatch(spec) if isinstance(spec, str) else None
    if match is None:
        return None
    kind, folder, name = match.groups()
    image = _IMAGE_NAME.fullmatch(name) if kind == "image" else None
    plain = _FILE_NAME.fullmatch(name)
    if image:
        sha1, width, height, ext = image.groups()
        asset_id = f"image-{sha1}-{width}x{height}-{ext}"
        doc = {"_id": asset_id, "_type": "sanity.imageAsset", "assetId": sha1,
               "extension": ext, "metadata": _dimensions(int(width), int(height))}
    elif plain:
        sha1, ext = plain.groups()
        asset_id = f"{kind}-{sha1}-{ext}"
        doc = {"_id": asset_id, "_type": f"sanity.{kind}Asset", "assetId": sha1,
               "extension": ext}
    else:
        return None
    import mimetypes

    doc.update(sha1hash=doc["assetId"], mimeType=mimetypes.guess_type(name)[0] or "",
               _exportPath=f"{folder}/{name}")
    assets.setdefault(asset_id, doc)
    return asset_id


def _dimensions(width: int, height: int) -> dict[str, Any]:
    return {"_type": "sanity.imageMetadata",
            "dimensions": {"_type": "sanity.imageDimensions", "width": width,
                           "height": height, "aspectRatio": width / height if height else 0}}


def _complete_asset(doc: dict[str, Any], meta: dict[str, Any], project_id: str,
                    dataset: str) -> None:
    """Add ``path``/``url`` (when the project is known) and ``assets.json`` metadata."""
    export_path = doc.pop("_exportPath")
    file_name = PurePosixPath(export_path).name
    for key in (doc["_id"], export_path, file_name, doc["assetId"]):
        extra = meta.get(key)
        if isinstance(extra, dict):
            doc.update({k: v for k, v in extra.items() if k not in ("_id", "_type")})
            break
    if project_id and dataset:
        folder = "images" if doc["_type"] == "sanity.imageAsset" else "files"
        doc["path"] = f"{folder}/{project_id}/{dataset}/{file_name}"
        doc["url"] = f"https://cdn.sanity.io/{doc['path']}"
