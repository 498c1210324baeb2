"""The citizen's report as PDF, laid out by ReportLab's Platypus.

ReportLab rather than WeasyPrint: it is pure Python (wheels with optional C speed-ups), so a
fresh machine or CI needs no Pango, Cairo or fonts from the system to produce the document
Dinsos hands over within art. 32's 3x24 hours. The layout (flowing paragraphs, tables that
break across pages with their header repeated) is Platypus', not drawn by hand here.
"""

from __future__ import annotations

import io
import re
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    ListFlowable,
    ListItem,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from hub.audit.report import Block, Report, Table, cell_text

_STYLES = getSampleStyleSheet()
_BODY = ParagraphStyle("body", parent=_STYLES["BodyText"], fontSize=9, leading=12)
_CELL = ParagraphStyle("cell", parent=_BODY, fontSize=7.5, leading=9.5, alignment=TA_LEFT)
_HEAD = ParagraphStyle("head", parent=_CELL, fontName="Helvetica-Bold")
_H1 = ParagraphStyle("h1", parent=_STYLES["Title"], fontSize=16, leading=20)
_H2 = ParagraphStyle("h2", parent=_STYLES["Heading2"], fontSize=12, leading=15, spaceBefore=8)
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _inline(text: str) -> str:
    """Report text as Platypus markup: escaped, `**bold**` kept."""
    return _BOLD.sub(r"<b>\1</b>", escape(text))


def _paragraph(text: str) -> list[Flowable]:
    lines = text.split("\n")
    if all(line.startswith("- ") for line in lines):
        items = [ListItem(Paragraph(_inline(line[2:]), _BODY)) for line in lines]
        return [ListFlowable(items, bulletType="bullet", start="•", leftIndent=10)]
    return [Paragraph(_inline(" ".join(lines)), _BODY)]


def _table(table: Table, width: float) -> Flowable:
    header = [Paragraph(_inline(h), _HEAD) for h in table.headers]
    body = [[Paragraph(_inline(cell_text(v)), _CELL) for v in row] for row in table.rows]
    flowable = LongTable(
        [header, *body], colWidths=[width / len(table.headers)] * len(header), repeatRows=1
    )
    flowable.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde6f0")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f6f8fa")]),
            ]
        )
    )
    return flowable


def _blocks(blocks: list[Block], width: float) -> list[Flowable]:
    out: list[Flowable] = []
    for block in blocks:
        out += [_table(block, width)] if isinstance(block, Table) else _paragraph(block)
        out.append(Spacer(1, 2 * mm))
    return out


def to_pdf(report: Report) -> bytes:
    """The report as a PDF document (A4 landscape: the trail's table is wide)."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=report.title,
        author="Dinas Sosial Kota Bandung - Satu Pintu Hub",
        lang="id",
    )
    width = document.width
    story: list[Flowable] = [Paragraph(_inline(report.title), _H1)]
    story += _blocks(report.preamble, width)
    for section in report.sections:
        story.append(Paragraph(_inline(section.heading), _H2))
        story += _blocks(section.blocks, width)
    document.build(story)
    return buffer.getvalue()
