"""Streaming XML for untrusted reports: defusedxml's parser, with every DTD refused.

Owns the one way ingest reads XML. A document type declaration is refused outright: scanner
results never carry one, and it is where entity bombs ("billion laughs") and external entities
(reading local files or URLs) live. Parse errors become one line naming the file and position.
Must not know any report format.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from complyd.operator.ingest.report import ReportError
from complyd.operator.ingest.source import Source

# expat's words for a document that stops before its root element is closed.
_ENDS_EARLY = ("no element found", "unclosed token", "unclosed CDATA section")


def local_name(tag: str) -> str:
    """`{http://checklists.nist.gov/xccdf/1.2}Rule` -> `Rule`."""
    return tag.rpartition("}")[2]


def namespace(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def element_text(element: Element) -> str:
    """All text inside an element (titles may hold XHTML markup), whitespace folded."""
    return " ".join("".join(element.itertext()).split())


def events(source: Source) -> Iterator[tuple[str, Element]]:
    """("start" | "end", element) pairs, in document order."""
    try:
        yield from iterparse(source, events=("start", "end"), forbid_dtd=True, forbid_entities=True)
    except DefusedXmlException:
        raise ReportError(
            f"{source.shown}: refused: the XML has a document type declaration (<!DOCTYPE>), "
            "which can define entities that expand without bound or read other files; "
            "scanner results carry none"
        ) from None
    except ParseError as exc:
        reason = str(exc)
        hint = "; the file ends early (truncated?)" if reason.startswith(_ENDS_EARLY) else ""
        raise ReportError(f"{source.shown}: not well-formed XML: {reason}{hint}") from None
