"""Files: the 推荐表 and the meeting record as A4 PDFs (reportlab's built-in CJK CID font STSong-Light:
no font file needed, and pypdf extracts the Chinese text back), summaries and ledgers as .xlsx."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"
PDF_MIME = "application/pdf"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=16, leading=22, alignment=1, spaceAfter=4 * mm),
        "sub": ParagraphStyle("sub", fontName=font, fontSize=9, leading=12, alignment=1, textColor=colors.grey),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=10, leading=14),
        "label": ParagraphStyle("label", fontName=font, fontSize=10, leading=14, alignment=1),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)).replace("\n", "<br/>"), style)


def _grid(rows: Sequence[Sequence[Any]], widths: Sequence[float], spans: Sequence[tuple] = ()) -> Table:
    styles = _styles()
    cells = [[_p(c, styles["label"] if col % 2 == 0 else styles["cell"]) if not isinstance(c, Paragraph) else c
              for col, c in enumerate(row)] for row in rows]
    table = Table(cells, colWidths=[w * mm for w in widths])
    commands: list[tuple] = [("GRID", (0, 0), (-1, -1), 0.6, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                             ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]
    commands += [("SPAN", start, end) for start, end in spans]
    table.setStyle(TableStyle(commands))
    return table


def _pdf(title: str, subtitle: str, parts: list[Any]) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=title, author="党建带团建")
    styles = _styles()
    doc.build([_p(title, styles["title"]), _p(subtitle, styles["sub"]), Spacer(1, 4 * mm), *parts])
    return buffer.getvalue()


def recommendation_form_pdf(record: dict[str, Any]) -> bytes:
    """The 推荐表 on one A4 page: particulars, the meeting figures, the opinions and the decision."""
    p, m = record["person"], record["meeting"] or {}
    gb, pb, pub = record["general_branch_review"] or {}, record["party_branch_decision"] or {}, record["publicity"] or {}
    vote = (f"应到 {m.get('entitled', '—')} 人，实到 {m.get('present', '—')} 人；赞成 {m.get('yes', '—')} 票，"
            f"反对 {m.get('no', '—')} 票，弃权 {m.get('abstain', '—')} 票；通过率 {m.get('pass_rate', '—')}")
    rows = [
        ["姓名", p["name"], "性别", p["gender"], "出生年月", p["birth_month"]],
        ["学号", p["id"], "身份证号", p["id_number"] or "—", "联系电话", p["phone"] or "—"],
        ["所在团支部", record["branch"], "团内职务", p["league_post"] or "—", "入团时间", p["league_joined"]],
        ["申请入党时间", p["party_applied"], "推荐时间", record["recommended_on"], "推荐类别", record["track"]],
        ["推优大会表决", vote, "", "", "", ""],
        ["支委会组织意见", record["committee_opinion"] or "—", "", "", "", ""],
        ["公示期", f"{pub.get('from', '—')} 至 {pub.get('until', '—')}" if pub else "—", "", "", "", ""],
        ["团总支审核意见", f"{gb.get('decision', '')} {gb.get('comment', '')}（{gb.get('date', '')}）" if gb else "—",
         "", "", "", ""],
        ["党支部决定", f"{pb.get('decision', '')} {pb.get('reason', '')}"
                     f"{'；培养联系人：' + '、'.join(pb['contacts']) if pb.get('contacts') else ''}"
                     f"（{pb.get('date', '')}）" if pb else "待党支部研究", "", "", "", ""],
    ]
    spans = [((1, r), (5, r)) for r in range(4, 9)]
    table = _grid(rows, [26, 34, 22, 34, 22, 36], spans)
    subtitle = f"案件 {record['instance_id']} · 接收党支部：{record['party_branch'] or '—'}"
    return _pdf("推荐优秀共青团员作入党积极分子人选推荐表" if record["track"] != "发展对象人选"
                else "推荐优秀共青团员作发展对象人选推荐表", subtitle, [table])


def meeting_record_pdf(record: dict[str, Any]) -> bytes:
    """The 推优大会记录: when and where, the approval, every meeting held with its figures and result."""
    p, a = record["person"], record["meeting_approval"] or {}
    parts: list[Any] = [_grid([
        ["推荐对象", f"{p['name']}（{p['id']}）", "所在团支部", record["branch"]],
        ["批准日期", a.get("decided", "—"), "会议时间地点", f"{a.get('date', '')} {a.get('time', '')} {a.get('place', '')}"],
    ], [26, 58, 28, 62])]
    for number, meeting in enumerate(record["meetings"], start=1):
        parts += [Spacer(1, 4 * mm), _grid([
            [f"第 {number} 次会议", meeting["meeting_date"], "结果", meeting["result"]],
            ["应到 / 实到", f"{meeting['entitled']} / {meeting['present']}", "赞成 / 反对 / 弃权",
             f"{meeting['yes']} / {meeting['no']} / {meeting['abstain']}"],
            ["发出 / 收回选票", f"{meeting['ballots_issued']} / {meeting['ballots_collected']}", "通过率（赞成/应到）",
             meeting["pass_rate"]],
            ["备注", meeting["notes"] or "—", "", ""],
        ], [30, 54, 34, 56], [((1, 3), (3, 3))])]
    return _pdf("推优大会记录", f"案件 {record['instance_id']} · {record['track']}", parts)


def xlsx(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[int]) -> bytes:
    """One sheet: a bold header row (frozen), then the rows."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in rows:
        sheet.append(list(row))
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


ASSESSMENT_HEADERS = ("团支部", "支部代码", "自评得分", "评审平均分", "等次", "是否已确认")
LEDGER_HEADERS = ("团支部", "序号", "问题", "整改措施", "完成时限", "责任人", "状态", "佐证材料数", "是否验收")


def assessment_summary_xlsx(year: int, rows: Sequence[dict[str, Any]]) -> bytes:
    return xlsx(f"{year}年度考核结果汇总表", ASSESSMENT_HEADERS,
                [(r["branch"], r["code"], r["self_score"], r["review_mean"], r["grade"], r["confirmed"]) for r in rows],
                (24, 16, 12, 12, 16, 12))


def ledger_xlsx(rows: Sequence[dict[str, Any]]) -> bytes:
    return xlsx("整改台账", LEDGER_HEADERS,
                [(r["branch"], r["number"], r["problem"], r["measure"], r["deadline"], r["responsible"], r["status"],
                  r["evidence"], r["accepted"]) for r in rows],
                (22, 6, 36, 40, 14, 14, 14, 12, 10))
