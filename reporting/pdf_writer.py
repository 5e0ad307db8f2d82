"""The report as an A4 PDF: the summary's tables and three charts (by category, by area, the twelve-month
trend) drawn with reportlab.graphics in greys that print in black and white, in IPAexGothic, embedded (the
font ships in the package, so the file reads the same where no Japanese font is installed)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from reporting.aggregate import Section, Summary
from reporting.render import EMPTY_NOTE, shown, unit_label
from storage.clock import JST

FONT = "IPAexGothic"
BAR = colors.Color(0.35, 0.35, 0.35)
HEAD = colors.Color(0.85, 0.85, 0.85)
WIDTH = A4[0] - 30 * mm
COLUMN = 38 * mm


@cache
def register_font() -> str:
    """Registers the shipped IPAexGothic (config/fonts, package data) once; returns its name."""
    with as_file(files("config").joinpath("fonts", "ipaexg.ttf")) as path:
        pdfmetrics.registerFont(TTFont(FONT, str(path)))
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=13)
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=22, spaceAfter=4),
        "sub": ParagraphStyle("sub", parent=base, fontSize=9, textColor=colors.Color(0.25, 0.25, 0.25)),
        "h2": ParagraphStyle("h2", parent=base, fontSize=11, leading=16, spaceBefore=8, spaceAfter=3),
        "empty": ParagraphStyle("empty", parent=base, fontSize=12, leading=18, spaceBefore=6, spaceAfter=6),
        "note": ParagraphStyle("note", parent=base, fontSize=7.5, leading=10),
        "cell": base,
        "head": ParagraphStyle("head", parent=base, fontSize=8, leading=10),
    }


def _section_table(summary: Summary, section: Section, styles: dict[str, ParagraphStyle]) -> list[Any]:
    head = ["項目", *(c.title for c in summary.columns), "単位"]
    label_width = WIDTH - COLUMN * len(summary.columns) - 12 * mm
    body = [
        [Paragraph(line.label, styles["cell"]), *(shown(line, v) for v in line.values), unit_label(line)]
        for line in section.lines
    ]
    table = Table(
        [[Paragraph(h, styles["head"]) for h in head], *body],
        colWidths=[label_width, *([COLUMN] * len(summary.columns)), 12 * mm],
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), HEAD),
                ("ALIGN", (1, 1), (-2, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    parts: list[Any] = [Paragraph(section.title, styles["h2"]), table]
    if section.note:
        parts.append(Paragraph(f"※{section.note}", styles["note"]))
    return [KeepTogether(parts)]


def _chart_title(drawing: Drawing, text: str) -> None:
    drawing.initialFontName = FONT  # the drawing's starting font, else a Helvetica that is not embedded
    drawing.add(String(0, drawing.height - 12, text, fontName=FONT, fontSize=10))


def horizontal_bars(title: str, labels: Sequence[str], values: Sequence[int]) -> Drawing:
    """A bar per label, its value at the bar's end; labels on the left."""
    height = 30 + 14 * max(len(labels), 1)
    drawing = Drawing(WIDTH, height)
    _chart_title(drawing, title)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 60 * mm, 8, WIDTH - 75 * mm, height - 30
    chart.data = [list(reversed(values)) or [0]]
    chart.categoryAxis.categoryNames = list(reversed(labels)) or [""]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7.5
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max([*values, 4])
    chart.valueAxis.valueStep = max(1, -(-max([*values, 4]) // 4))
    chart.bars[0].fillColor = BAR
    chart.bars[0].strokeColor = colors.black
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 7
    chart.barLabelFormat = "%d"
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    return drawing


def trend_bars(title: str, labels: Sequence[str], values: Sequence[int]) -> Drawing:
    """The twelve months as columns, each with its count above it."""
    drawing = Drawing(WIDTH, 62 * mm)
    _chart_title(drawing, title)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 12 * mm, WIDTH - 16 * mm, 40 * mm
    chart.data = [list(values)]
    chart.categoryAxis.categoryNames = list(labels)
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max([*values, 4])
    chart.valueAxis.valueStep = max(1, -(-max([*values, 4]) // 4))
    chart.bars[0].fillColor = BAR
    chart.bars[0].strokeColor = colors.black
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 7
    chart.barLabelFormat = "%d"
    chart.barLabels.nudge = 6
    drawing.add(chart)
    return drawing


def _section_chart(summary: Summary, key: str, title: str) -> Drawing:
    section = summary.section(key)
    lines = section.lines if section else ()
    return horizontal_bars(
        f"{title}（{summary.columns[0].title}）",
        [line.short or line.label for line in lines],
        [int(line.values[0] or 0) for line in lines],
    )


def write_pdf(path: Path, summary: Summary) -> None:
    """Writes the summary with its charts to an A4 PDF at `path`."""
    register_font()
    styles = _styles()
    period = summary.period
    made = summary.generated_at.astimezone(JST)
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=period.title,
        author=summary.desk_name,
        initialFontName=FONT,  # the canvas's starting font: else every page names a Helvetica not embedded
        initialFontSize=9,
    )
    story: list[Any] = [
        Paragraph(period.title, styles["title"]),
        Paragraph(f"{summary.desk_name}　作成日時: {made:%Y年%m月%d日 %H:%M}", styles["sub"]),
    ]
    if summary.empty:
        story.append(Paragraph(EMPTY_NOTE, styles["empty"]))
    first, *rest = summary.sections
    story += _section_table(summary, first, styles)
    story.append(Spacer(1, 4 * mm))
    story.append(
        trend_bars("月別の相談件数（12か月）", [m for m, _ in summary.trend], [n for _, n in summary.trend])
    )
    story.append(_section_chart(summary, "category", "相談区分別"))
    story.append(_section_chart(summary, "region", "地域別"))
    for section in rest:
        story += _section_table(summary, section, styles)

    def number_pages(canvas: Any, document: Any) -> None:
        canvas.setFont(FONT, 8)
        canvas.drawCentredString(A4[0] / 2, 8 * mm, f"{period.title}　{document.page}")

    doc.build(story, onFirstPage=number_pages, onLaterPages=number_pages)
