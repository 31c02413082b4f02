"""``deploy_site``: push only what changed to an object-storage bucket, then purge the CDN.

Owns the deploy run: local hashes from the manifest, the remote state (one GET of
``<prefix>/.ssgen-deploy.json``, checked against one paginated listing, repaired with
HEADs when missing or stale), ordered uploads on a bounded thread pool with the state
saved after every batch (an interrupted deploy resumes where it stopped), deletions last,
then the purge hooks. The pure decisions live in ``ssgen.deploy.plan``, the S3 requests
in ``ssgen.deploy.s3``, the hooks in ``ssgen.deploy.purge``.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import field
from pathlib import Path
from typing import Any

from ssgen.build.output import sha256, url_to_file
from ssgen.build.progress import Reporter
from ssgen.config.deploy import DeployConfig, Target, parse_target
from ssgen.config.load import Config
from ssgen.deploy.plan import (
    LocalFile,
    Plan,
    RemoteEntry,
    RemoteState,
    describe_state_error,
    make_plan,
    merge_purges,
    object_meta,
    purge_urls,
    reconcile,
)
from ssgen.deploy.purge import Purger, purgers
from ssgen.deploy.s3 import LIST_PAGE, S3Store
from ssgen.errors import ConfigError, DeployError, OutputError
from ssgen.fastclass import dataclass
from ssgen.manifest.connect import open_state
from ssgen.render.redirects import JSON_FILE, load_redirects

BATCH = 256  # fewest uploads between two saves of the state object
MAX_SAVES = 8  # a big deploy saves the state about this often (each save rewrites all of it)


@dataclass
class DeployReport:
    """What a deploy did (or, with ``dry_run``, would do). Lists hold output relpaths."""

    target: str
    dry_run: bool = False
    uploaded: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    skipped: int = 0
    repaired: int = 0
    bytes_uploaded: int = 0
    purged: int = 0
    requests: int = 0
    requests_by_operation: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def changes(self) -> dict[str, list[str]]:
        """New, changed and deleted relpaths (the shape of ``BuildReport.changes``)."""
        return {"new": sorted(self.new), "changed": sorted(self.changed),
                "deleted": sorted(self.deleted)}

    def summary(self) -> str:
        """The one-line summary the CLI prints."""
        verb = "would upload" if self.dry_run else "uploaded"
        gone = "would delete" if self.dry_run else "deleted"
        return (f"deploy to {self.target}: {verb} {len(self.uploaded)} "
                f"({len(self.new)} new, {len(self.changed)} changed), {gone} "
                f"{len(self.deleted)}, {self.skipped} unchanged; {self.requests} requests, "
                f"{self.bytes_uploaded} bytes in {self.seconds:.2f}s")


def resolve_target(settings: DeployConfig, target: str | Target | None) -> Target:
    """The target from the command line, else ``[deploy] target`` (ConfigError if none)."""
    if isinstance(target, Target):
        return target
    if target is not None:
        try:
            return parse_target(target)
        except ValueError as exc:
            raise ConfigError(f"deploy target: {exc}") from exc
    if settings.target is None:
        raise ConfigError("no deploy target: pass one (ssgen deploy s3://bucket/prefix) or "
                          "set target in [deploy] of ssgen.toml")
    return settings.target


def local_files(config: Config, settings: DeployConfig) -> dict[str, LocalFile]:
    """Every output file the manifest records, with the metadata it is uploaded with."""
    path = config.state_dir / "manifest.sqlite"
    if config.state_url is None and not path.is_file():
        raise DeployError(f"{path} not found: run `ssgen build` before deploying")
    with open_state(config.state_dir, config.state_url) as manifest:
        records = manifest.files()
    if not records:
        raise DeployError(f"{path} lists no output files: run `ssgen build` first")
    atom = frozenset({str(url_to_file(config.feed.path))}) if config.feed else frozenset()
    moved = redirect_stubs(config.output_dir)
    return {rel: LocalFile(rel, rec.hash, rec.kind,
                           object_meta(rel, rec.kind, settings, atom, moved))
            for rel, rec in records.items()}


def redirect_stubs(output_dir: Path) -> dict[str, str | None]:
    """The stub file of each redirect in the output's ``redirects.json`` -> its target
    (None: a 410). S3 answers a redirect with 301 whatever status the rule names."""
    try:
        data = (output_dir / JSON_FILE).read_bytes()
    except OSError:
        return {}
    stubs: dict[str, str | None] = {}
    for redirect in load_redirects(data).values():
        try:
            stubs[str(url_to_file(redirect.source))] = redirect.to
        except OutputError:
            continue
    return stubs


def _encoder(precompress: str) -> Callable[[bytes], bytes] | None:
    if precompress == "gzip":
        return lambda data: gzip.compress(data, compresslevel=9, mtime=0)
    if precompress == "br":
        try:
            brotli: Any = importlib.import_module("brotli")
        except ImportError as exc:
            raise ConfigError('deploy.precompress = "br" needs the brotli package (pip '
                              'install brotli); use "gzip" or "none"') from exc
        return lambda data: bytes(brotli.compress(data))
    return None


def _purge_base(config: Config, settings: DeployConfig, hooks: Sequence[Purger]) -> str:
    base = (settings.purge.base_url if settings.purge else None) or config.site.base_url
    if hooks and not base:
        raise ConfigError("deploy.purge: purge URLs need a base: set base_url in [site] or "
                          "in [deploy.purge]")
    return base


class _Run:
    """One deploy: the remote state as it evolves, and the pool doing the requests."""

    def __init__(self, config: Config, settings: DeployConfig, store: S3Store,
                 reporter: Reporter, pool: ThreadPoolExecutor, batch: int | None) -> None:
        self.output = config.output_dir
        self.store = store
        self.reporter = reporter
        self.pool = pool
        self.batch = batch
        self.encode = _encoder(settings.precompress)
        self.state = RemoteState()
        self.saved = b""
        self.report = DeployReport(target=str(store.target))

    def load_remote(self, local: Mapping[str, LocalFile], trust_state: bool
                    ) -> tuple[dict[str, RemoteEntry], set[str]]:
        """Known entries and every remote relpath; repairs what the state cannot vouch for."""
        raw = self.store.read_state()
        state = None
        if raw is not None:
            try:
                state = RemoteState.loads(raw)
                self.saved = raw
            except ValueError as exc:
                self.reporter.warn(describe_state_error(exc))
        listing = None
        if not (trust_state and state is not None):
            known_keys = sorted(state.files) if state else []
            splits = known_keys[LIST_PAGE - 1:-1:LIST_PAGE]
            listing = self.store.listing(splits, self.pool.map)
        known, unverified, remote = reconcile(state, listing)
        heads = sorted(unverified & set(local))
        if heads:
            self.reporter.info(f"checking {len(heads)} objects the deploy state does not cover")
        for rel, entry in zip(heads, self.pool.map(self.store.head, heads), strict=True):
            if entry is not None:
                known[rel] = entry
        self.report.repaired = len(heads)
        self.state = RemoteState(dict(known), dict(state.purge) if state else {})
        return known, remote

    def save(self) -> None:
        """Write the state object when it differs from what the bucket holds."""
        data = self.state.dumps()
        if data != self.saved:
            self.store.write_state(data)
            self.saved = data

    def _upload_one(self, item: LocalFile) -> tuple[RemoteEntry, int]:
        path = self.output / item.relpath
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DeployError(f"{path}: cannot read ({exc.strerror}): run `ssgen build` "
                              "before deploying") from exc
        body = self.encode(data) if self.encode and item.meta.encoding else data
        # The hash of the bytes sent, not the manifest's: the state must describe the object.
        digest = sha256(data)
        etag = self.store.put(item.relpath, body, digest, item.meta)
        return RemoteEntry(digest, item.meta.fingerprint, etag), len(body)

    def upload(self, plan: Plan) -> None:
        """Upload phase by phase, ``batch`` at a time, saving the state after each batch."""
        size = self.batch or max(BATCH, -(-len(plan.uploads) // MAX_SAVES))
        chunks = [items[i:i + size] for _, items in plan.phases
                  for i in range(0, len(items), max(1, size))]
        with self.reporter.progress("uploading", len(plan.uploads)) as advance:
            for index, chunk in enumerate(chunks):
                futures = [self.pool.submit(self._upload_one, item) for item in chunk]
                try:
                    error = self._collect(chunk, futures, advance)
                except BaseException:  # Ctrl-C: keep what is done, skip what has not started
                    for future in futures:
                        future.cancel()
                    with contextlib.suppress(DeployError):
                        self.save()
                    raise
                if error is not None:
                    self._fail_upload(error)
                if index < len(chunks) - 1:
                    self.save()

    def _fail_upload(self, error: Exception) -> None:
        """Raise the upload's own error (the first cause), after saving what was done.

        A store that fails an upload often fails the state write that follows too; that
        second error is appended, never put in the first one's place.
        """
        done = len(self.report.uploaded)
        try:
            self.save()
        except DeployError as exc:
            raise DeployError(f"{error} ({done} uploads done; saving the deploy state "
                              f"failed too: {exc}; run the deploy again)") from error
        raise DeployError(f"{error} ({done} uploads done and recorded; run the "
                          "deploy again to upload the rest)") from error

    def _collect(self, chunk: list[LocalFile], futures: list[Future[tuple[RemoteEntry, int]]],
                 advance: Callable[[int], None]) -> Exception | None:
        error: Exception | None = None
        for item, future in zip(chunk, futures, strict=True):
            try:
                entry, size = future.result()
            except Exception as exc:  # every upload in the batch is awaited before raising
                error = error or exc
                continue
            self.state.files[item.relpath] = entry
            self.report.uploaded.append(item.relpath)
            self.report.bytes_uploaded += size
            advance(1)
            self.reporter.debug(f"uploaded {item.relpath}")
        return error

    def delete(self, relpaths: list[str]) -> None:
        """Delete objects (after every upload), recording each batch in the state."""
        def done(batch: list[str]) -> None:
            for rel in batch:
                self.state.files.pop(rel, None)
            self.report.deleted.extend(batch)

        self.store.delete(relpaths, done)

    def purge(self, hooks: Sequence[Purger], urls: Mapping[str, list[str]]) -> None:
        """Run the hooks for this deploy's URLs plus any an earlier deploy still owes."""
        pending = merge_purges(self.state.purge, urls) if hooks else {}
        if not any(pending.values()):
            self.state.purge = {}
            self.save()
            return
        self.state.purge = pending
        self.save()
        for hook in hooks:
            try:
                hook.purge(pending)
            except DeployError as exc:
                raise DeployError(f"uploads are complete, but the CDN purge failed: {exc} "
                                  "(the URLs are kept and purged by the next deploy)") from exc
        self.report.purged = sum(len(v) for v in pending.values())
        self.state.purge = {}
        self.save()


def deploy_site(
    config: Config,
    *,
    changes: Mapping[str, Sequence[str]] | None = None,
    delete: bool | None = None,
    dry_run: bool = False,
    reporter: Reporter | None = None,
    target: str | Target | None = None,
    jobs: int | None = None,
    store: S3Store | None = None,
    hooks: Sequence[Purger] | None = None,
    batch: int | None = None,
) -> DeployReport:
    """Upload what changed since the last deploy, delete (``delete``, default
    ``[deploy] delete``) what disappeared, then purge the CDN.

    ``changes`` (a build's ``report.changes()``) says the caller knows what moved: the
    remote state object is then trusted without listing the bucket, and the files the
    build deleted are deleted remotely even without ``delete``. ``store`` and
    ``hooks`` replace the ones ``[deploy]`` describes (tests, serve). ``batch``: uploads
    between two saves of the state (default: at least 256, at most ~8 saves a deploy).
    """
    started = time.perf_counter()
    reporter = reporter or Reporter.quiet()
    from ssgen.build.pipeline import settle_quick

    settle_quick(config)  # files quick builds wrote: their hashes recorded before they are read
    settings = config.deploy or DeployConfig()
    where = resolve_target(settings, target)
    _encoder(settings.precompress)
    local = local_files(config, settings)
    hooks = purgers(settings.purge, cwd=str(config.site_dir)) if hooks is None else hooks
    base = _purge_base(config, settings, hooks)
    store = store or S3Store.shared(settings, where, jobs=jobs)
    before, before_ops = store.requests, store.counter.by_operation()
    with ThreadPoolExecutor(max_workers=jobs or settings.jobs) as pool:
        run = _Run(config, settings, store, reporter, pool, batch)
        _execute(run, local, changes, settings.delete if delete is None else delete,
                 dry_run, hooks, base)
    report = run.report
    report.requests = store.requests - before
    after = store.counter.by_operation()
    report.requests_by_operation = {op: n - before_ops.get(op, 0) for op, n in after.items()
                                    if n - before_ops.get(op, 0)}
    report.seconds = time.perf_counter() - started
    return report


def _execute(run: _Run, local: dict[str, LocalFile],
             changes: Mapping[str, Sequence[str]] | None, delete: bool,
             dry_run: bool, hooks: Sequence[Purger], base: str) -> None:
    known, remote = run.load_remote(local, trust_state=changes is not None)
    deleted = changes.get("deleted", ()) if changes is not None else ()
    plan = make_plan(local, known, remote, delete=delete, deleted=deleted)
    report = run.report
    report.new, report.changed = sorted(plan.new), sorted(plan.changed)
    report.skipped = plan.unchanged
    if dry_run:
        report.dry_run = True
        report.uploaded = [item.relpath for item in plan.uploads]
        report.deleted = list(plan.deletes)
        return
    run.upload(plan)
    if plan.deletes:
        run.delete(plan.deletes)
    urls = purge_urls(base, plan.new, plan.changed, plan.deletes) if hooks else {}
    run.purge(hooks, urls)
