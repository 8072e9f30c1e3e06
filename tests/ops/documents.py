"""Plain-text documents of a chosen size for ingestion tests."""

from __future__ import annotations

PARTS = ("pump", "valve", "filter", "motor", "sensor", "pipe", "seal", "gauge", "tank", "fan")


def manual(sections: int, title: str = "Pump manual") -> bytes:
    """A manual of about 1,600 characters per section, every sentence different, so it splits
    into about two default-size chunks per section."""
    lines = [f"# {title}", ""]
    for n in range(sections):
        part = PARTS[n % len(PARTS)]
        lines.append(f"## Section {n + 1}: the {part} (revision {n})")
        lines.extend(
            f"Step {step} for the {part} in section {n + 1}: check that reading {n * 31 + step} "
            f"stays under {step * 7 + n} units, then wait {step + n % 5} minutes before the next "
            "check, and write the result into the maintenance log."
            for step in range(1, 9)
        )
        lines.append("")
    return "\n".join(lines).encode()
