"""Sample documents for the ingestion tests; PDF and DOCX builders are shared in tests.samples."""

from __future__ import annotations

import io
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
