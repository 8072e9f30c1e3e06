"""Manual pages rendered as text (`man ls > ls.txt`): one section per option, under its heading.

A manual's options are what people ask about ("which option lists an archive?"), and a run of
fifty of them cut every 1,000 characters gives chunks that each hold parts of several: the
answer's option shares its chunk, and its vector, with unrelated ones. Rendered pages have a
layout that says where each option starts: section headings at the margin (NAME, OPTIONS,
BESCHREIBUNG, ...), subsection headings indented less than the body, and each option a line of the
body's indentation that starts with a dash, its description indented further.
"""

from __future__ import annotations

import re

from ingestion.sections import NAVIGATION, OPTION, PROSE, Section, structure

# "TAR(1)      GNU TAR Manual      TAR(1)": the header line man(1) prints on top of every page
_HEADER = re.compile(r"^\s*(\S+)\(\d\w*\)\s.*\S\(\d\w*\)\s*$")
_SECTION = re.compile(r"^\S.*$")
_SUBSECTION = re.compile(r"^ {2,4}\S.*$")
_OPTION = re.compile(r"^( {4,8})[-+]\S")
# the references to other pages, in the languages of man-pages' translations
_SEE_ALSO = frozenset({"SEE ALSO", "VOIR AUSSI", "SIEHE AUCH", "VÉASE TAMBIÉN", "VEJA TAMBÉM"})


def man_page_sections(text: str) -> list[Section] | None:
    """The page's options one section each and its prose per heading, or None when the text is
    not a rendered manual page. Tabs are expanded first: `man tar | col -b` writes runs of
    spaces as tabs, and the layout is read from the columns."""
    lines = text.expandtabs(8).splitlines()
    if not lines or not _HEADER.match(lines[0]):
        return None
    sections: list[Section] = []
    heading = subheading = ""
    block: list[str] = []
    option_indent: str | None = None

    def close() -> None:
        body = "\n".join(block).strip("\n")
        if body.strip():
            path = [part for part in (heading, subheading) if part]
            sections.append(Section(_dedent(body), _structure(path, block)))
        block.clear()

    for line in lines[1:]:
        if _SECTION.match(line) and not _HEADER.match(line):
            close()
            heading, subheading, option_indent = line.strip(), "", None
            continue
        if _SUBSECTION.match(line) and not _OPTION.match(line):
            close()
            subheading, option_indent = line.strip(), None
            continue
        option = _OPTION.match(line)
        if option and option_indent in (None, option.group(1)) and not _only_options(block):
            # a new option at the body's indentation; options of an option (deeper) stay in
            # it, and so do the variants listed above one description ("-L port:host:port",
            # "-L socket:host:port", ...)
            close()
            option_indent = option.group(1)
        block.append(line)
    close()
    return sections


def _structure(path: list[str], block: list[str]) -> dict[str, str | int]:
    """An option's section names its flags (the lines above its description); SEE ALSO is a
    list of other pages."""
    title = " / ".join(path) or None
    if path and path[0] in _SEE_ALSO:
        return structure(NAVIGATION, path, heading=title)
    lines = [line for line in block if line.strip()]
    if lines and _OPTION.match(lines[0]):
        flags = []
        for line in lines:
            if not _OPTION.match(line):
                break
            flags.append(line.strip())
        return structure(OPTION, path, heading=title, option=", ".join(flags))
    return structure(PROSE, path, heading=title)


def _only_options(block: list[str]) -> bool:
    """Whether the block so far is option lines and nothing else (no description yet)."""
    lines = [line for line in block if line.strip()]
    return bool(lines) and all(_OPTION.match(line) for line in lines)


def _dedent(text: str) -> str:
    lines = text.splitlines()
    margin = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
    return "\n".join(line[margin:] for line in lines).strip()
