"""OPML 2.0 in and out: how feed readers exchange subscription lists.

Import reads every `<outline>` with an `xmlUrl` at any depth (readers nest them in folders);
export writes one flat `<body>`. The file comes from the operator, so it is trusted (Python's
expat refuses external entities and caps entity expansion).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlsplit


class OPMLError(ValueError):
    """The file is not OPML we can read; the message says why."""


@dataclass(frozen=True, slots=True)
class Feed:
    url: str
    name: str


def parse_opml(data: bytes) -> list[Feed]:
    """The feeds of an OPML document, in document order, each URL once."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        raise OPMLError(f"not valid XML: {error}") from None
    if root.tag != "opml" or root.find("body") is None:
        raise OPMLError("not an OPML document (no <opml><body>)")
    feeds: list[Feed] = []
    seen: set[str] = set()
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or "").strip()
        if not url or url in seen:
            continue
        seen.add(url)
        name = (outline.get("title") or outline.get("text") or "").strip()
        feeds.append(Feed(url=url, name=name or urlsplit(url).hostname or url))
    return feeds


def render_opml(feeds: list[Feed], *, title: str = "newsbot sources") -> str:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for feed in feeds:
        ET.SubElement(body, "outline", type="rss", text=feed.name, title=feed.name, xmlUrl=feed.url)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
