"""Reading the staff page's HTML without a browser: elements by attribute, with their text.

Enough of a parser for the ASGI tests (the standard library's `html.parser`, no dependency):
each element's attributes and its whitespace-normalised text, in document order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


@dataclass
class Element:
    """One element: its tag, attributes and text (descendants' text included)."""

    tag: str
    attrs: dict[str, str]
    parts: list[str] = field(default_factory=list)
    children: list[Element] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join("".join(self.parts).split())

    def find_all(self, tag: str | None = None, **attrs: str | None) -> list[Element]:
        """Descendants with this tag (any when None) whose attributes have these values (an
        attribute given as None only has to be present); `data_x` stands for `data-x`, `class_`
        for `class`."""
        found = []
        for child in self.children:
            if _matches(child, tag, attrs):
                found.append(child)
            found.extend(child.find_all(tag, **attrs))
        return found

    def find(self, tag: str | None = None, **attrs: str | None) -> Element:
        """The first such descendant; AssertionError when there is none."""
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag or '*'}> with {attrs}"
        return found[0]


def _matches(element: Element, tag: str | None, attrs: dict[str, str | None]) -> bool:
    if tag is not None and element.tag != tag:
        return False
    for name, wanted in attrs.items():
        # A trailing underscore escapes a keyword (class_, for_); others stand for hyphens.
        key = name.removesuffix("_").replace("_", "-")
        if key not in element.attrs:
            return False
        if wanted is None:
            continue
        if key == "class" and wanted in element.attrs[key].split():
            continue
        if element.attrs[key] != wanted:
            return False
    return True


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.open: list[Element] = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.open[-1].children.append(element)
        if tag not in _VOID:
            self.open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open[-1].children.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return

    def handle_data(self, data: str) -> None:
        for element in self.open:
            element.parts.append(data)


def parse(html: str) -> Element:
    """The document's root element."""
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root
