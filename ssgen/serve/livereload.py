"""Live reload for ``serve --dev``: a script injected into served HTML, and its endpoint.

Owns the reload signal. ``LiveReload.update(worker)`` (a worker listener) bumps a
generation whenever a rebuild changed files or the error state changed; the injected
script polls ``/_ssgen/livereload`` and reloads the tab when the generation moves, and
shows the last build error (e.g. a template error with file:line) in an overlay. The
script is added to HTTP responses only; files on disk are never touched.
"""

from __future__ import annotations

import json
import re
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ssgen.serve.worker import RebuildWorker

ENDPOINT = "/_ssgen/livereload"
POLL_MS = 300

# A click on a link marked data-ssgen-leave (preview's "Exit preview") starts a
# navigation that a reload issued before it commits would cancel: none is, after it.
_SCRIPT = """<script data-ssgen-livereload>(function () {
  var seen = null, leaving = false;
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest("[data-ssgen-leave]")) { leaving = true; }
  }, true);
  function overlay(message) {
    var box = document.getElementById("ssgen-error-overlay");
    if (!message) { if (box) { box.remove(); } return; }
    if (!box) {
      box = document.createElement("pre");
      box.id = "ssgen-error-overlay";
      box.style.cssText = "position:fixed;inset:0;margin:0;padding:2em;z-index:2147483647;" +
        "background:rgba(20,0,0,.92);color:#ffb4b4;font:14px/1.5 monospace;" +
        "white-space:pre-wrap;overflow:auto";
      document.documentElement.appendChild(box);
    }
    box.textContent = "ssgen build error\\n\\n" + message;
  }
  function poll() {
    fetch("__ENDPOINT__", {cache: "no-store"}).then(function (r) { return r.json(); })
      .then(function (state) {
        if (seen !== null && state.generation !== seen && !leaving) {
          location.reload();
          return;
        }
        seen = state.generation;
        overlay(state.error);
        setTimeout(poll, __POLL__);
      }, function () { setTimeout(poll, 1000); });
  }
  poll();
})();</script>
""".replace("__ENDPOINT__", ENDPOINT).replace("__POLL__", str(POLL_MS))

SCRIPT = _SCRIPT.encode()
_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)


def inject(html: bytes) -> bytes:
    """``html`` with the live-reload script before its last ``</body>`` (or at the end)."""
    matches = list(_BODY_END.finditer(html))
    if not matches:
        return html + SCRIPT
    at = matches[-1].start()
    return html[:at] + SCRIPT + html[at:]


class LiveReload:
    """The generation and error the injected script polls for."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.generation = 0
        self.error: str | None = None
        self._seen_rebuilds = 0

    def update(self, worker: RebuildWorker) -> None:
        """Called after every rebuild round: bump when files or the error state changed."""
        last = worker.last
        with self._lock:
            changed = False
            if last is not None and worker.rebuilds != self._seen_rebuilds:
                self._seen_rebuilds = worker.rebuilds
                changed = any(last.changes.values())
            if worker.last_error != self.error:
                self.error = worker.last_error
                changed = True
            if changed:
                self.generation += 1

    def state(self) -> dict[str, Any]:
        """The JSON the script polls."""
        with self._lock:
            return {"generation": self.generation, "error": self.error}

    def state_json(self) -> bytes:
        """``state()`` encoded."""
        return json.dumps(self.state()).encode()


__all__ = ["ENDPOINT", "SCRIPT", "LiveReload", "inject"]
