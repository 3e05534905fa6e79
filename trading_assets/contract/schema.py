"""JSON Schemas of the v1alpha1 payloads, generated from the pydantic models.

Regenerate the committed copies with `python -m trading_assets.contract.schema docs/contracts`;
a test fails while they differ from the models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from trading_assets.contract.v1alpha1 import ModelDayStatus, SymbolDecision

SCHEMAS: dict[str, type[BaseModel]] = {
    "model-day-status.v1alpha1.schema.json": ModelDayStatus,
    "symbol-decision.v1alpha1.schema.json": SymbolDecision,
}
_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_texts() -> dict[str, str]:
    """File name -> schema text, as written to disk."""
    # "serialization": the schema of what we emit, so defaulted fields count as required.
    return {
        name: json.dumps(
            {"$schema": _DIALECT, **model.model_json_schema(mode="serialization")}, indent=2
        )
        + "\n"
        for name, model in SCHEMAS.items()
    }


def write_schemas(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_texts().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m trading_assets.contract.schema FOLDER", file=sys.stderr)
        return 2
    for path in write_schemas(args[0]):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
