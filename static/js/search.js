// The header's search box: queries the Pagefind bundle that `[search] enabled = true`
// builds into /pagefind/, and lists the best matches under the box as links.
const box = document.querySelector("[data-search-base]");
if (box) {
  const base = box.dataset.searchBase;
  const input = box.querySelector("input");
  const list = box.querySelector("ol");
  const status = box.querySelector("[role=status]");
  let loading = null;
  let latest = 0;

  const pagefind = () => {
    loading ??= import(`${base}pagefind/pagefind.js`).then(async (api) => {
      await api.options({ baseUrl: base });
      return api;
    });
    return loading;
  };

  // Excerpts are HTML (matches in <mark>): shown as text, never parsed into the page.
  const text = (html) => new DOMParser().parseFromString(html, "text/html").body.textContent;

  const show = (results, total) => {
    list.replaceChildren(...results.map((data) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = data.url;
      link.textContent = data.meta.title || data.url;
      const excerpt = document.createElement("p");
      excerpt.textContent = text(data.excerpt);
      item.append(link, excerpt);
      return item;
    }));
    list.hidden = results.length === 0;
    status.textContent = total === 1 ? "1 result" : `${total} results`;
  };

  const clear = () => {
    list.replaceChildren();
    list.hidden = true;
    status.textContent = "";
  };

  input.addEventListener("focus", () => { pagefind(); }, { once: true });
  input.addEventListener("input", async () => {
    const query = input.value.trim();
    const ticket = ++latest;
    if (!query) { clear(); return; }
    const api = await pagefind();
    const search = await api.debouncedSearch(query, {}, 150);
    if (search === null || ticket !== latest) return;  // a later keystroke took over
    const results = await Promise.all(search.results.slice(0, 8).map((r) => r.data()));
    if (ticket === latest) show(results, search.results.length);
  });
  box.querySelector("form").addEventListener("submit", (event) => {
    event.preventDefault();
    list.querySelector("a")?.focus();
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { clear(); input.focus(); }
  });
  box.hidden = false;
}
