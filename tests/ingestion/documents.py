"""Sample documents for the ingestion tests; PDF and DOCX builders are shared in tests.samples."""

from __future__ import annotations

import io
import random
import zipfile

from pypdf import PdfReader, PdfWriter

from tests.samples import make_docx, make_pdf

MULTILINGUAL_TEXT = """\
The quick brown fox jumps over the lazy dog while the committee reviews the quarterly budget.

Falsches Üben von Xylophonmusik quält jeden größeren Zwerg, sagt die Straßenbahnfahrerin.

Le cœur déçu mais l'âme plutôt naïve, Louÿs rêva de crapaüter en canoë au-delà des îles.

Съешь же ещё этих мягких французских булок да выпей чаю, сказал повар на кухне.

我们的客服团队每天早上九点到晚上六点在线，周末休息。退款申请需要在七天内提交。

東京の本社は月曜日から金曜日まで営業しています。お問い合わせはメールでお願いします。

يسعدنا مساعدتك في أي وقت، ويمكنك التواصل مع فريق الدعم عبر البريد الإلكتروني.
"""

MARKDOWN = """\
Intro text before any heading.

# Getting started

Install the package with pip.

```bash
# this is a shell comment, not a heading
pip install widget
```

## Configuration

Set WIDGET_COLOR to blue.

# Billing

Invoices are sent on the first day of each month.
"""

HTML = """\
<!DOCTYPE html>
<html>
<head>
  <title>Help centre</title>
  <style>body { color: red; } .secret-style { }</style>
  <script>var secretScript = "do not index me";</script>
</head>
<body>
  <noscript>Enable JavaScript, secret noscript</noscript>
  <p>Welcome to the
     help centre.</p>
  <h1>Shipping</h1>
  <p>We ship <b>worldwide</b> within five days.</p>
  <ul><li>Express</li><li>Standard</li></ul>
  <h2>Returns</h2>
  <p>Returns are free for thirty days.<br>Keep the receipt.</p>
  <table><tr><th>Plan</th><th>Price</th></tr><tr><td>Pro</td><td>10 EUR</td></tr></table>
  <h4>Small print</h4>
  <p>Stays under Returns.</p>
</body>
</html>
"""

CSV = """\
name,city,plan
Alice,Berlin,pro
Bob,Paris,free
Carol,,enterprise
"""


def owner_locked_pdf(text: str) -> bytes:
    """A PDF that anyone may open but only the owner may edit (an empty user password)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([text]))))
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zip_with(members: dict[str, bytes], archive: bytes = b"") -> bytes:
    """`archive` (a new, empty one by default) with `members` added, deflated."""
    out = io.BytesIO(archive)
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as zipped:
        for name, content in members.items():
            zipped.writestr(name, content)
    return out.getvalue()


def manual_docx() -> bytes:
    return make_docx(
        [
            ("Installation", "Run the installer and accept the licence."),
            ("Billing", "Invoices are sent monthly."),
        ],
        table=[["Plan", "Seats"], ["Team", "25"]],
    )


_WORDS = (
    "the customer account invoice order shipping refund warranty support team product service "
    "delivery payment period contract renewal notice policy request ticket response agent plan "
    "upgrade license seat feature release update security password access report data export "
    "import schedule meeting office region country tax rate discount price quote budget review"
).split()
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_RUN = (
    '<w:r w:rsidRPr="00B2{n:04X}"><w:rPr><w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" '
    'w:cs="Arial"/><w:color w:val="1F1F1F"/><w:sz w:val="22"/><w:szCs w:val="22"/>'
    '<w:lang w:val="en-GB" w:eastAsia="en-GB"/></w:rPr>'
    '<w:t xml:space="preserve">{text} </w:t></w:r>'
)
_PARAGRAPH = (
    '<w:p w:rsidR="00A1{n:04X}" w:rsidRDefault="00A1{n:04X}" w:rsidP="00C3{n:04X}"><w:pPr>'
    '<w:spacing w:before="60" w:after="120" w:line="276" w:lineRule="auto"/><w:jc w:val="both"/>'
    "</w:pPr>{runs}</w:p>"
)
_HEADING = '<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Chapter {n}</w:t></w:r></w:p>'


def large_docx(xml_bytes: int) -> bytes:
    """A valid DOCX whose word/document.xml is about `xml_bytes` of ordinary paragraphs, marked up
    as Word writes them (fonts, sizes, revision ids), under a heading every 40 paragraphs.

    It compresses about 14:1, like the 13.6 MB document that inflated to 190 MB, and is written
    part by part, so building it costs little memory.
    """
    rng = random.Random(11)
    paragraphs = []
    for n in range(2000):
        runs = "".join(
            _RUN.format(n=n * 3 + i, text=" ".join(rng.choices(_WORDS, k=rng.randint(6, 14))))
            for i in range(3)
        )
        paragraphs.append(_PARAGRAPH.format(n=n, runs=runs).encode())
    template = io.BytesIO(manual_docx())
    out = io.BytesIO()
    with (
        zipfile.ZipFile(template) as source,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            if item.filename != "word/document.xml":
                target.writestr(item, source.read(item))
        with target.open("word/document.xml", "w", force_zip64=True) as document:
            document.write(
                f'<?xml version="1.0" encoding="UTF-8"?><w:document {_W}><w:body>'.encode()
            )
            written, n = 0, 0
            while written < xml_bytes:
                block = b"".join(paragraphs[(n + i) % len(paragraphs)] for i in range(40))
                block = _HEADING.format(n=n // 40 + 1).encode() + block
                document.write(block)
                written += len(block)
                n += 40
            document.write(b"<w:sectPr/></w:body></w:document>")
    return out.getvalue()


def many_page_pdf(pages: int) -> bytes:
    """A valid PDF of `pages` pages sharing one small content stream, written directly (pypdf's
    writer needs 15 s for 100,000 pages), with all pages in one flat page tree, as pypdf writes."""
    text = b"BT /F1 11 Tf 50 780 Td (The same line on every page.) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
        + b"] /Count %d >>" % pages,
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents 3 0 R "
    page += b"/Resources << /Font << /F1 4 0 R >> >> >>"
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects + [page] * pages, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(offsets) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()
