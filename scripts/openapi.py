"""Print the API's OpenAPI document, from which the dashboard's typed client is generated.

`npm run gen:api` (in app/dashboard/web) runs this; no server or database is needed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.config import Settings  # noqa: E402
from app.main import create_app  # noqa: E402


def main() -> None:
    settings = Settings(env="test", database_url="sqlite://", secret_key="openapi-" + "x" * 32)
    json.dump(create_app(settings).openapi(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
