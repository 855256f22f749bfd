"""``corridor ingest report``: a report's text into ``reports``, its claims into ``claims``.

Plain text and Markdown are read as UTF-8 (stray bytes replaced, or Windows-1252 when
most of the file is not UTF-8; the result says so);
HTML goes through trafilatura (the ``html`` extra), which drops navigation and
boilerplate and also gives a title and date when the page has them. Markdown markup
(headings, emphasis, links, images) is reduced to its words so sentences read cleanly.

The stored text is normalised (Unicode NFC, ``\\n`` line ends, trailing spaces and runs
of blank lines removed) and ``report_id`` is a hash of it, so the same text ingested
twice — even from a .txt and an .html copy — is stored once. Claim spans index into
this stored text. Report and claims are written in one transaction.

>>> normalise_text("Title\\r\\n\\r\\n\\r\\nBody  \\n") == "Title\\n\\nBody"
True
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa

from corridor.claims.extract import extract_claims
from corridor.claims.store import save_claims
from corridor.store import Store, sha256_file, utcnow

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
MARKDOWN_SUFFIXES = (".md", ".markdown")


class ReportError(ValueError):
    """A file that cannot be read as a report (binary, empty, unreadable)."""


@dataclass
class ReportIngest:
    """What ``ingest_report`` did. ``status``: stored, already_stored."""

    path: str
    report_id: str | None = None
    status: str = "stored"
    claims: int = 0
    chars: int = 0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.status == "already_stored":
            head = f"{self.path}: same text already stored as report {self.report_id}"
        else:
            head = f"{self.path}: stored report {self.report_id} ({self.chars:,} characters)"
        return [head, f"  {self.claims} claims extracted"] + [f"  note: {n}" for n in self.notes]


def normalise_text(text: str) -> str:
    """The canonical form of a report's text (what is stored and hashed)."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\ufeff", "")
    lines = [ln.rstrip() for ln in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return text.strip()


def report_id_of(text: str) -> str:
    """16-hex id of the normalised text.

    >>> report_id_of("a  \\n") == report_id_of("a")
    True
    """
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()[:16]


def _markdown_to_text(md: str) -> str:
    """Markdown reduced to its words. Hand-written: six substitutions, no dependency."""
    md = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", md)                  # images
    md = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", md)               # links -> text
    md = re.sub(r"^\s{0,3}#{1,6}\s+", "", md, flags=re.M)          # headings
    md = re.sub(r"^\s{0,3}>\s?", "", md, flags=re.M)               # quotes
    md = re.sub(r"(\*\*|__)(.+?)\1", r"\2", md)                    # bold
    md = re.sub(r"(?<![\w*])([*_])(?!\s)(.+?)(?<!\s)\1(?![\w*])", r"\2", md)  # italics
    return md


def _html_to_text(html: str, path: Path, notes: list[str]) -> tuple[str, dict]:
    try:
        import trafilatura
    except ImportError as exc:
        if isinstance(exc, ModuleNotFoundError) and exc.name == "trafilatura":  # no 'html' extra
            missing = "pip install 'corridor[html]'"
        else:  # installed, but one of its own imports fails: say which (e.g. lxml_html_clean)
            missing = "trafilatura is installed but cannot be imported: " + " ".join(str(exc).split())
        raise ReportError(f"{path}: reading HTML needs trafilatura: {missing} "
                          "(or save the page as text and ingest that)") from exc
    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_precision=True)
    meta: dict = {}
    try:
        m = trafilatura.extract_metadata(html)
        if m is not None:
            meta = {"title": m.title, "publisher": m.sitename, "published": m.date, "url": m.url}
    except Exception as exc:  # metadata is a convenience; its parser may reject odd pages
        notes.append(f"no metadata from HTML ({type(exc).__name__})")
    if not text:
        raise ReportError(f"{path}: no readable text found in the HTML")
    return text, meta


def read_report(path: str | Path) -> tuple[str, dict, list[str]]:
    """(normalised text, metadata found in the file, notes) for a report file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ReportError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    notes: list[str] = []
    if not raw.strip():
        raise ReportError(f"{path}: empty file")
    if b"\x00" in raw[:8192]:
        raise ReportError(f"{path}: binary file (NUL bytes); give a text, Markdown or HTML file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = raw.decode("utf-8", errors="replace")
        bad = text.count("\ufffd")
        if bad > 0.01 * len(text):  # mostly not UTF-8: a single-byte legacy encoding
            text = raw.decode("cp1252", errors="replace")
            notes.append(f"not UTF-8 (byte {exc.start}); read as Windows-1252 / Latin-1")
        else:
            notes.append(f"{bad} bytes that are not UTF-8 (first at byte {exc.start}) replaced by �")
    control = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if control > 0.05 * min(len(text), 8192):
        raise ReportError(f"{path}: looks binary ({control} control characters in the first 8 KB)")
    meta: dict = {}
    head = text.lstrip()[:200].lower()
    if path.suffix.lower() in HTML_SUFFIXES or head.startswith(("<!doctype html", "<html")):
        text, meta = _html_to_text(text, path, notes)
    elif path.suffix.lower() in MARKDOWN_SUFFIXES:
        text = _markdown_to_text(text)
    text = normalise_text(text)
    if not text:
        raise ReportError(f"{path}: no text")
    return text, meta, notes


def _places(store: Store) -> pa.Table:
    return store.query("SELECT place_id, name, aliases, kind, source FROM places")


def _vessels(store: Store) -> pa.Table:
    """The stored vessels (loaded cases' and others) that claims name vessels against."""
    return store.query("SELECT vessel_id, name, aliases, imo, mmsi, source FROM vessels")


def ingest_report(
    store: Store,
    path: str | Path,
    *,
    title: str | None = None,
    publisher: str | None = None,
    published: date | None = None,
    url: str | None = None,
) -> ReportIngest:
    """Store a report and its extracted claims; see the module docstring.

    Metadata given here wins over metadata found in the file. Re-ingesting the same text
    stores nothing new, but fills metadata the stored report lacked and re-extracts its
    claims (manual claims are kept). Raises :class:`ReportError` for unusable files.
    """
    path = Path(path)
    text, meta, notes = read_report(path)
    result = ReportIngest(str(path), report_id=report_id_of(text), chars=len(text), notes=notes)
    found_date = meta.get("published")
    if published is None and found_date:
        try:
            published = date.fromisoformat(str(found_date)[:10])
        except ValueError:
            notes.append(f"ignored unreadable date {found_date!r} in the file")
    given = {"title": title or meta.get("title"), "publisher": publisher or meta.get("publisher"),
             "published": published, "url": url or meta.get("url")}
    rid = result.report_id
    row = store.one("SELECT title, publisher, published, url FROM reports WHERE report_id = ?",
                    [rid])
    digest = sha256_file(path)
    ingest_id = store.begin_ingest("report", str(path), path.stat().st_size, digest)
    try:
        with store.transaction():
            if row is None:
                store.con.execute(
                    "INSERT INTO reports (report_id, title, publisher, published, url, path, text, "
                    "ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [rid, given["title"], given["publisher"], given["published"], given["url"],
                     str(path), text, utcnow()])
            else:
                result.status = "already_stored"
                stored = dict(zip(("title", "publisher", "published", "url"), row, strict=True))
                for k, v in given.items():
                    if v is not None and stored[k] is None:
                        store.con.execute(f"UPDATE reports SET {k} = ? WHERE report_id = ?", [v, rid])
                        stored[k] = v
                        notes.append(f"added {k} to the stored report")
                    elif v is not None and stored[k] != v:
                        notes.append(f"kept stored {k} {stored[k]!s} (given {v!s})")
                published = stored["published"]
            if published is None:
                notes.append("no published date: dates without a year and 'recent weeks' left unresolved")
            claims = extract_claims(text, rid, published, _places(store), _vessels(store))
            result.claims = save_claims(store, rid, claims)
    except BaseException as exc:
        store.finish_ingest(ingest_id, "failed", message=f"{type(exc).__name__}: {exc}")
        raise
    store.finish_ingest(ingest_id, "done", rows_in=1, rows_stored=result.claims + (row is None),
                        counts={"report_id": rid, "claims": result.claims, "status": result.status})
    return result


def get_report(store: Store, report_id: str) -> dict | None:
    """A stored report's row as a dict, or None."""
    rows = store.query("SELECT * FROM reports WHERE report_id = ?", [report_id]).to_pylist()
    return rows[0] if rows else None
