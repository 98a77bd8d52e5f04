"""套打: fields placed in millimetres on the sheet of a pre-printed form. Every position is the
field's own plus the template's printer offset; the line block repeats its fields every
`row_pitch_mm` from `y_mm`, `max_rows` to a sheet, and more rows continue on the next sheet
(with the header fields again). The form image is drawn on screen only (print_page.css hides it)."""

from __future__ import annotations

from markupsafe import Markup, escape

from server.printing.documents import lookup


def _num(v: float) -> str:
    return f"{float(v):.2f}".rstrip("0").rstrip(".")


def _box(field: dict, x: float, y: float, value: object, image: bool = False) -> str:
    """A field's text; an image field (a `data:image/…` URL) as the image, its box's width."""
    style = (
        f"left:{_num(x)}mm;top:{_num(y)}mm;width:{_num(field['width_mm'])}mm;"
        f"font-size:{_num(field['font_size_pt'])}pt;text-align:{field['align']};"
        f"font-weight:{'700' if field['bold'] else '400'}"
    )
    if image:
        shown = str(value).startswith("data:image/")
        content = f'<img class="pr-image" src="{escape(value)}" alt="">' if shown else ""
    else:
        content = str(escape(value))
    return f'<div class="pr-field" data-key="{escape(field["key"])}" style="{style}">{content}</div>'


def render(layout: dict, data: dict, rows_key: str, background_url: str | None, images: tuple[str, ...] = ()) -> Markup:
    """The sheets of an overlay template filled with `data` (HTML, inside the print page);
    `images`: the keys whose values are drawn as images."""
    paper, offset = layout["paper"], layout["offset_mm"]
    ox, oy = float(offset["x"]), float(offset["y"])
    block = layout.get("line_block") or {}
    rows = lookup(data, rows_key) if rows_key and block.get("fields") else []
    rows = rows if isinstance(rows, list) else []
    per_sheet = max(1, int(block.get("max_rows") or 1))
    chunks = [rows[i : i + per_sheet] for i in range(0, len(rows), per_sheet)] or [[]]
    sheet_style = f"width:{_num(paper['width_mm'])}mm;height:{_num(paper['height_mm'])}mm"
    out = []
    for number, chunk in enumerate(chunks, 1):
        parts = [f'<section class="pr-sheet" data-sheet="{number}" style="{sheet_style}">']
        if background_url:
            parts.append(f'<img class="pr-background" src="{escape(background_url)}" alt="" style="{sheet_style}">')
        for f in layout.get("fields", []):
            x, y = float(f["x_mm"]) + ox, float(f["y_mm"]) + oy
            parts.append(_box(f, x, y, lookup(data, f["key"]), f["key"] in images))
        for i, row in enumerate(chunk):
            y0 = float(block["y_mm"]) + i * float(block["row_pitch_mm"])
            for f in block["fields"]:
                parts.append(_box(f, float(f["x_mm"]) + ox, y0 + float(f["y_mm"]) + oy, lookup(row, f["key"])))
        parts.append("</section>")
        out.append("".join(parts))
    return Markup("".join(out))


def calibration(paper: dict, offset: dict) -> Markup:
    """【打印校准页】: a millimetre grid (a line every 5 mm, labelled every 10 mm) shifted by the
    printer offset, to measure how far the printer feeds off-true."""
    w, h = float(paper["width_mm"]), float(paper["height_mm"])
    ox, oy = float(offset["x"]), float(offset["y"])
    lines = []
    for x in range(0, int(w) + 1, 5):
        major = x % 10 == 0
        lines.append(f'<line x1="{x}" y1="0" x2="{x}" y2="{h}" class="{"major" if major else "minor"}"/>')
        if major and x:
            lines.append(f'<text x="{x + 0.5}" y="4">{x}</text>')
    for y in range(0, int(h) + 1, 5):
        major = y % 10 == 0
        lines.append(f'<line x1="0" y1="{y}" x2="{w}" y2="{y}" class="{"major" if major else "minor"}"/>')
        if major and y:
            lines.append(f'<text x="0.5" y="{y - 0.5}">{y}</text>')
    svg = (
        f'<svg class="pr-grid" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(w)} {_num(h)}" '
        f'style="left:{_num(ox)}mm;top:{_num(oy)}mm;width:{_num(w)}mm;height:{_num(h)}mm">{"".join(lines)}</svg>'
    )
    return Markup(f'<section class="pr-sheet" style="width:{_num(w)}mm;height:{_num(h)}mm">{svg}</section>')
