"""`python -m schemas` rewrites the JSON Schema files from the models."""

import json
from pathlib import Path

from pydantic import BaseModel

from schemas.post import ExtractedRecord, PostRecord, Tombstone

HERE = Path(__file__).parent
SCHEMA_FILES: dict[Path, type[BaseModel]] = {
    HERE / "post.schema.json": PostRecord,
    HERE / "tombstone.schema.json": Tombstone,
    HERE / "extracted.schema.json": ExtractedRecord,
}
SCHEMA_PATH = HERE / "post.schema.json"


def render(model: type[BaseModel] = PostRecord) -> str:
    return json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    for path, model in SCHEMA_FILES.items():
        path.write_text(render(model), encoding="utf-8")
        print(f"wrote {path}")
