"""Real sample documents: built in memory, or read from what Debian ships on this machine."""

from __future__ import annotations

import gzip
import io
import os
import re
import subprocess
from pathlib import Path

from docx import Document as DocxDocument
from pypdf import PdfReader, PdfWriter


def make_pdf(pages: list[str]) -> bytes:
    """A valid PDF with one page of Helvetica text per entry (extractable by pypdf), a line per
    line of the text, long ones wrapped at 90 characters."""
    objects: list[bytes] = []
    n = len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    font_id = 3 + 2 * n
    for i, text in enumerate(pages):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        lines = [
            line[j : j + 90] for line in escaped.split("\n") for j in range(0, len(line) or 1, 90)
        ] or [""]
        ops = "BT /F1 11 Tf 14 TL 50 780 Td " + " ".join(f"({ln}) Tj T*" for ln in lines) + " ET"
        stream = ops.encode("latin-1", "replace")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {4 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")

    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(["Top secret page."]))))
    writer.encrypt("owner-password")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def make_docx(sections: list[tuple[str, str]], table: list[list[str]] | None = None) -> bytes:
    """A DOCX with a Heading 1 and a paragraph per (heading, text) pair, and an optional table."""
    doc = DocxDocument()
    for heading, text in sections:
        doc.add_heading(heading, level=1)
        doc.add_paragraph(text)
    if table:
        grid = doc.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def man_page(path: str | Path) -> bytes:
    """A man page as a user saves it as text: `man -l`, 80 columns, without overstrike."""
    env = {**os.environ, "MANWIDTH": "80", "MAN_KEEP_FORMATTING": ""}
    out = subprocess.run(["man", "-l", str(path)], capture_output=True, env=env, check=True)
    return re.sub(rb".\x08", b"", out.stdout)


def shipped_file(path: str | Path) -> bytes:
    """A file Debian ships (licences, package docs), gunzipped if it is compressed."""
    data = Path(path).read_bytes()
    return gzip.decompress(data) if str(path).endswith(".gz") else data
