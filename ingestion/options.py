"""Command-line options listed in Markdown: the lines that start an option's description.

READMEs list options as items (`- `-o FILE`: write to FILE`, `* **--fast=#**  faster`), as table
rows (`| -o FILE | write to FILE |`) or as a definition-like list (the flags alone on a line, the
description indented under them, or after two spaces as --help prints it); HTML manuals list them
in <dl>, which `ingestion.markup` writes as the flags' paragraph over the description's. Each
option is cut out of its block with the lines under it, so that one option's description is one
section (`kind` option), as a man page's are.

A line counts only when it starts with the flags (`-x`, `--long-name`, with `=VALUE`, `<arg>`,
`[=#]` or an argument in capitals) and what follows them says they are a term being described:
nothing, a colon, a dash, two spaces, a table's next cell, or (in a list item, where the flags are
written as code or in bold) the description. "--trace-children=yes makes Valgrind follow them"
mentions a flag; it describes none.
"""

from __future__ import annotations

import re

_FLAG = r"(?:--[A-Za-z0-9][\w.-]*|-[A-Za-z?#][\w?#]*|-\d+)"
# "-4", "-19": flags too, but on a line of their own only ("-1 | error" is a table's value)
_NUMERIC = re.compile(r"-\d+")
# "=SIZE", "=#", "[=#]", "[<facility>]", "<progname>", attached as in "-lp<progname>"
# (a value holds no "=", "[" or "<": each attachment is read one way, never backtracked over)
_ATTACHED = r"(?:=[^\s,|`*=\[<]*[^\s,|`*=\[<:.]|\[[^\]\s]*\]|<[^>\s]+>)"
# "-o FILE", "-r <file>", "-L [bind_address:]port": arguments in capitals or brackets
_ARGUMENT = r"(?: (?:[A-Z][A-Z0-9_]*(?:[=:.-][A-Z0-9_]+)*|<[^>\s]+>|\[[^\]]+\]\S*))"
_SPEC = rf"{_FLAG}{_ATTACHED}*{_ARGUMENT}*"
# variants written together: "-s, --strict", "-h | -?", "-d -d"
_VARIANTS = rf"{_SPEC}(?:(?:, | \| | / | or | ){_SPEC})*"
_DESCRIBED = r"(?:\s*$|:\s+|\s+[-\u2013\u2014]\s+|\s{2,}|\t|\s+\|\s+)"
_BARE = re.compile(rf"^({_VARIANTS}){_DESCRIBED}(.*)$")
# flags written as code or in bold, each alone: "`-o FILE`", "**--fast=#**", "`-o`, `--out`"
_WRAPPED_ONE = (
    rf"(?:\*\*`(?={_FLAG})[^`]+`\*\*|`(?={_FLAG})[^`]+`|\*\*(?={_FLAG})[^*]+\*\*"
    rf"|__(?={_FLAG})(?:[^_]|_(?!_))+__)"
)
_WRAPPED = re.compile(
    rf"^({_WRAPPED_ONE}(?:(?:, | \| | / | or ){_WRAPPED_ONE})*)({_DESCRIBED}|\s+)(.*)$"
)
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_TABLE_ROW = re.compile(r"^\s*\|\s*")


def option_pieces(block: list[str]) -> list[tuple[str | None, list[str]]]:
    """The block's lines cut where options start: (None, lines) for what comes before the first,
    then (flags, lines) for each option: the flags alone, the description on their line, then the
    block's lines under them up to the next option.

    A line starts an option when it opens the block, a list item or a table row, or when it is at
    the margin of a block that opens with an option (a definition-like or --help list)."""
    pieces: list[tuple[str | None, list[str]]] = [(None, [])]
    margin: int | None = None
    for number, line in enumerate(block):
        marked = _LIST_MARKER.match(line) or _TABLE_ROW.match(line)
        candidate = number == 0 or marked or " | " in line or _indent(line) == margin
        option = _option(line) if candidate else None
        if number == 0 and option:
            margin = _indent(line)
        if option is None:
            pieces[-1][1].append(line)
            continue
        flags, description = option
        pieces.append((flags, [flags, description] if description else [flags]))
    return [(flags, lines) for flags, lines in pieces if lines]


def _option(line: str) -> tuple[str, str] | None:
    """(the flags as written, the description on their line) when the line starts an option."""
    marker = _LIST_MARKER.match(line) or _TABLE_ROW.match(line)
    rest = line[marker.end() :] if marker else line.strip()
    if bare := _BARE.match(rest):
        flags, description = bare.group(1), _cell(bare.group(2))
        return None if description and _NUMERIC.fullmatch(flags) else (flags, description)
    wrapped = _WRAPPED.match(rest)
    if wrapped is None or (wrapped.group(2) == " " and not _LIST_MARKER.match(line)):
        return None  # "`--fast` makes it faster" in a paragraph mentions the flag
    flags = re.sub(r"\*\*|__|`", "", wrapped.group(1)).rstrip(":")
    return flags, _cell(wrapped.group(3))


def _cell(description: str) -> str:
    """A description without the closing bar of its table row."""
    return description.strip().removesuffix("|").strip()


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())
