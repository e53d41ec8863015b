#!/usr/bin/env python3
"""check-book-links.py: fail on broken internal links in the built book (mdbook build docs).

    python3 scripts/check-book-links.py docs/book

Reads every HTML page mdBook wrote, and for each href/src that is not external (no scheme,
not protocol-relative): the file it points to must exist inside the book, and a #fragment must
be an id in that page. Prints one line per broken link (page: link: why) and exits 1 if any,
0 otherwise, 2 on usage errors. External links are not fetched (no network in CI).
"""
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# mdBook's own theme files reference assets it generates; only the content is ours.
SKIP_PREFIXES = ("javascript:", "mailto:", "data:")


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links = []
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a and a["id"]:
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        for key in ("href", "src"):
            v = a.get(key)
            if v and not v.startswith(SKIP_PREFIXES):
                self.links.append(v)


def parse(path, cache):
    if path not in cache:
        p = Page()
        p.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = p
    return cache[path]


def main(argv):
    if len(argv) != 2 or not Path(argv[1]).is_dir():
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    root = Path(argv[1]).resolve()
    cache = {}
    broken = 0
    pages = sorted(root.rglob("*.html"))
    for page in pages:
        rel = page.relative_to(root)
        # mdBook's theme assets, and its 404 page (whose links are relative to the site root
        # it is served from, not to the file).
        if rel.parts[0] in ("FontAwesome", "fonts", "css") or rel.name == "404.html":
            continue
        for link in parse(page, cache).links:
            u = urlsplit(link)
            if u.scheme or link.startswith("//"):
                continue
            target = page if not u.path else (page.parent / unquote(u.path)).resolve()
            why = None
            if root not in target.parents and target != root:
                why = "points outside the book"
            elif target.is_dir():
                target = target / "index.html"
            if why is None and not target.exists():
                why = "no such file"
            if why is None and u.fragment and target.suffix == ".html":
                if unquote(u.fragment) not in parse(target, cache).ids:
                    why = f"no id #{u.fragment} in {target.relative_to(root)}"
            if why:
                print(f"{rel}: {link}: {why}")
                broken += 1
    print(f"check-book-links: {len(pages)} pages, {broken} broken internal link(s)")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
