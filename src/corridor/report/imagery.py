"""Imagery evidence with a chain of custody: the image an analyst counted from, and what was
counted where on it.

A sighting or rail count can rest on image files (PNG, JPEG, TIFF/GeoTIFF). They are loaded
from an annotation sheet (``imagery.csv``, one row per annotation)::

    file,provider,captured_at,licence,credit,annotated_by,annotated_on,label,count,shape,x,y,w,h,place_id,date,note

- ``file``: the image, relative to the sheet; ``provider``/``captured_at``/``licence``/
  ``credit``: where the picture comes from; ``annotated_by``/``annotated_on``: who marked it;
- ``shape`` ``box`` (``x``, ``y``, ``w``, ``h``) or ``point`` (``x``, ``y``), in pixels of
  the full image (origin top left); ``label`` what was marked (ship, container stack, rail
  car, ...) and ``count`` how many the mark stands for;
- ``place_id``/``date``: the corridor place and day the count is evidence for (a rail count
  or sighting of that place and day links to the image).

Files are stored content-addressed beside the store (``<db>.imagery/sha256/ab/<hash>.<ext>``)
and recorded in the store's ``ingest_log`` (kind ``image``) with their SHA-256, size and
ingest time; annotations go to ``<db>.imagery/annotations.json`` under stable ids. Loading
the same files again adds nothing. The report draws each image as a thumbnail with its
marks (:func:`imagery_views`) and lists every source file with its hash
(:func:`source_files`). Images are never made up: a count without an image keeps naming the
source whose imagery it came from.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from corridor.ids import stable_id
from corridor.store import Store, sha256_file, utcnow

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".tif": "image/tiff", ".tiff": "image/tiff"}
SHEET_COLUMNS = ("file", "label", "count", "shape", "x", "y")
#: thumbnails in the report are at most this wide (px)
THUMB_WIDTH_PX = 640


class ImageryError(ValueError):
    """An annotation sheet or image that cannot be loaded; names the file and line."""


@dataclass(frozen=True)
class Annotation:
    """One mark on an image: a box or point (pixels of the full image) with what it counts."""

    annotation_id: str
    image_sha256: str
    shape: str
    x: float
    y: float
    w: float
    h: float
    label: str
    count: int
    annotated_by: str = ""
    annotated_on: str = ""
    place_id: str = ""
    date: str = ""
    note: str = ""


@dataclass(frozen=True)
class ImageRecord:
    """A stored image and where it comes from."""

    sha256: str
    name: str
    media_type: str
    size_bytes: int
    width_px: int
    height_px: int
    ingested_at: str
    provider: str = ""
    captured_at: str = ""
    licence: str = ""
    credit: str = ""


@dataclass
class ImageryLoadSummary:
    """What loading a sheet did: images added and images already stored (each image once),
    annotations added, and rows skipped with why."""

    images_added: int = 0
    images_known: int = 0
    annotations_added: int = 0
    skipped: list[str] = field(default_factory=list)


def imagery_dir(store: Store) -> Path:
    """The content-addressed image directory beside the store's file."""
    p = Path(str(store.path))
    if str(store.path) in ("", ":memory:"):
        raise ImageryError("an in-memory store has no place for image files: open a file")
    return p.with_name(p.name + ".imagery")


def _manifest(d: Path) -> dict:
    f = d / "annotations.json"
    if f.exists():
        return json.loads(f.read_text(encoding="utf-8"))
    return {"images": {}, "annotations": {}}


def _write_manifest(d: Path, doc: dict) -> None:
    tmp = d / "annotations.json.tmp"
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False), "utf-8")
    tmp.replace(d / "annotations.json")  # never half-written


def _num(path: Path, line: int, name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ImageryError(f"{path}:{line}: {name} {text!r} is not a number") from None


def load_imagery(store: Store, sheet: str | Path) -> ImageryLoadSummary:
    """Store the images an annotation sheet names and its annotations (idempotent).

    A row with a missing image, an unknown file type or a bad number is skipped with a
    message naming the file and line; the other rows are still loaded.
    """
    from PIL import Image

    sheet = Path(sheet)
    d = imagery_dir(store)
    d.mkdir(parents=True, exist_ok=True)
    doc = _manifest(d)
    summary = ImageryLoadSummary()
    seen: set[str] = set()  # images of this sheet counted once, however many marks they carry
    with open(sheet, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in SHEET_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ImageryError(f"{sheet}: missing column {missing[0]!r}")
        rows = [(reader.line_num, {k: (v or "").strip() for k, v in r.items()}) for r in reader]
    for line, r in rows:
        f = (sheet.parent / r["file"]).resolve()
        media = IMAGE_TYPES.get(f.suffix.lower())
        if not f.is_file() or media is None:
            summary.skipped.append(f"{sheet}:{line}: {r['file']}: "
                                   + ("not a file" if not f.is_file() else "not PNG/JPEG/TIFF"))
            continue
        try:
            x, y = _num(sheet, line, "x", r["x"]), _num(sheet, line, "y", r["y"])
            shape = r["shape"] or "box"
            w = _num(sheet, line, "w", r.get("w", "")) if shape == "box" else 0.0
            h = _num(sheet, line, "h", r.get("h", "")) if shape == "box" else 0.0
            count = int(_num(sheet, line, "count", r["count"] or "1"))
        except ImageryError as exc:
            summary.skipped.append(str(exc))
            continue
        if shape not in ("box", "point"):
            summary.skipped.append(f"{sheet}:{line}: shape {shape!r} is not box or point")
            continue
        digest = sha256_file(f)
        if digest in seen:  # another mark on an image this sheet already named
            pass
        elif digest not in doc["images"]:
            with Image.open(f) as im:
                width, height = im.size
            target = d / "sha256" / digest[:2] / f"{digest}{f.suffix.lower()}"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, target)
            size = f.stat().st_size
            if store.find_ingest(digest, "image") is None:
                ingest = store.begin_ingest("image", f.name, size, digest)
                store.finish_ingest(ingest, "done", rows_in=1, rows_stored=1)
            doc["images"][digest] = asdict(ImageRecord(
                digest, f.name, media, size, width, height,
                utcnow().strftime("%Y-%m-%d %H:%M UTC"), r.get("provider", ""),
                r.get("captured_at", ""), r.get("licence", ""), r.get("credit", "")))
            summary.images_added += 1
        else:
            summary.images_known += 1
        seen.add(digest)
        ann_id = stable_id("annotation", digest, shape, x, y, w, h, r["label"], count)
        if ann_id not in doc["annotations"]:
            doc["annotations"][ann_id] = asdict(Annotation(
                ann_id, digest, shape, x, y, w, h, r["label"], count, r.get("annotated_by", ""),
                r.get("annotated_on", ""), r.get("place_id", ""), r.get("date", ""),
                r.get("note", "")))
            summary.annotations_added += 1
    _write_manifest(d, doc)
    return summary


@dataclass(frozen=True)
class ImageView:
    """What the report draws for one image: a thumbnail (data URI) and its marks scaled."""

    record: ImageRecord
    anchor: str
    thumb_uri: str
    thumb_w: int
    thumb_h: int
    marks: tuple[tuple[Annotation, str], ...]  # (annotation, its anchor)

    @property
    def counts(self) -> dict[str, int]:
        """Total count per label on this image."""
        out: dict[str, int] = {}
        for a, _ in self.marks:
            out[a.label] = out.get(a.label, 0) + a.count
        return out


def _thumb(path: Path, width_px: int) -> tuple[str, int, int]:
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        scale = min(1.0, width_px / im.width)
        im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))))
        buf = io.BytesIO()
        im.save(buf, "PNG", optimize=True)
    return ("data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii"),
            im.width, im.height)


def imagery_views(store: Store, place_ids: set[str] | None = None) -> list[ImageView]:
    """The stored images with their annotations, for the report.

    ``place_ids`` keeps only images with a mark on one of those places (a corridor's own
    nodes), so a store shared by cases shows each report only its own imagery.
    """
    try:
        d = imagery_dir(store)
    except ImageryError:
        return []
    if not (d / "annotations.json").exists():
        return []
    doc = _manifest(d)
    by_image: dict[str, list[Annotation]] = {}
    for a in doc["annotations"].values():
        ann = Annotation(**a)
        by_image.setdefault(ann.image_sha256, []).append(ann)
    views = []
    for digest, anns in sorted(by_image.items()):
        if place_ids is not None and not any(a.place_id in place_ids for a in anns):
            continue
        rec = ImageRecord(**doc["images"][digest])
        path = d / "sha256" / digest[:2] / f"{digest}{Path(rec.name).suffix.lower()}"
        if not path.exists() or sha256_file(path) != digest:
            continue  # a file changed or lost since it was stored is not shown as evidence
        uri, tw, th = _thumb(path, THUMB_WIDTH_PX)
        anns = sorted(anns, key=lambda a: (a.label, a.y, a.x, a.annotation_id))
        views.append(ImageView(rec, f"img-{digest[:12]}", uri, tw, th,
                               tuple((a, f"ann-{a.annotation_id}") for a in anns)))
    return views


def source_files(store: Store) -> list[dict[str, Any]]:
    """Every file the store was loaded from: kind, file name (never its local path), size,
    SHA-256 and ingest time, oldest first; one row per distinct content."""
    rows = store.query(
        "SELECT kind, path, size_bytes, content_sha256, min(started_at) AS ingested_at "
        "FROM ingest_log WHERE status IN ('done', 'partial') "
        "GROUP BY kind, path, size_bytes, content_sha256 ORDER BY ingested_at, kind").to_pylist()
    seen: set[tuple[str, str]] = set()
    out = []
    for r in rows:
        key = (r["kind"], r["content_sha256"])
        if key in seen:
            continue
        seen.add(key)
        out.append({"kind": r["kind"], "name": Path(str(r["path"])).name,
                    "size_bytes": r["size_bytes"], "sha256": r["content_sha256"],
                    "ingested_at": r["ingested_at"].strftime("%Y-%m-%d %H:%M UTC")
                    if r["ingested_at"] else ""})
    return out


def render_image_svg(view: ImageView, svg_id: str | None = None) -> str:
    """The thumbnail with its marks as an ``<svg>`` (pixels of the thumbnail)."""
    from corridor.report.svg import esc, num

    k = view.thumb_w / max(view.record.width_px, 1)
    out = [f'<svg id="{esc(svg_id or view.anchor)}" class="imagery zoomable" '
           f'viewBox="0 0 {view.thumb_w} {view.thumb_h}" role="img" '
           f'aria-label="{esc(view.record.name)} with {len(view.marks)} marks" '
           'xmlns="http://www.w3.org/2000/svg">',
           f'<image href="{view.thumb_uri}" x="0" y="0" width="{view.thumb_w}" '
           f'height="{view.thumb_h}"/>', '<g class="viewport">']
    for i, (a, anchor) in enumerate(view.marks, 1):
        title = (f"{a.count} × {a.label}" + (f", marked by {a.annotated_by}" if a.annotated_by
                                             else "") + (f". {a.note}" if a.note else ""))
        if a.shape == "box":
            x, y, w, h = a.x * k, a.y * k, max(a.w * k, 2.0), max(a.h * k, 2.0)
            shape = (f'<rect class="annot" x="{num(x)}" y="{num(y)}" width="{num(w)}" '
                     f'height="{num(h)}" fill="none" stroke="#ffd400" stroke-width="2" '
                     'vector-effect="non-scaling-stroke"/>')
            lx, ly = x, y - 3 if y > 14 else y + h + 12
        else:
            x, y = a.x * k, a.y * k
            shape = (f'<circle class="annot" cx="{num(x)}" cy="{num(y)}" r="5" fill="none" '
                     'stroke="#ffd400" stroke-width="2" vector-effect="non-scaling-stroke"/>')
            lx, ly = x + 7, y - 7
        out.append(f'<a href="#{esc(anchor)}"><title>{esc(title)}</title>{shape}'
                   f'<text x="{num(lx)}" y="{num(ly)}" font-size="12" font-weight="700" '
                   f'fill="#ffd400" stroke="#000" stroke-width="2.5" paint-order="stroke">'
                   f'{i}</text></a>')
    out.append("</g></svg>")
    return "".join(out)
