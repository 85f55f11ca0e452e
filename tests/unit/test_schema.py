"""The record model and its published JSON Schema."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from schemas import Comment, ExtractedRecord, Extractor, PostRecord, content_hash
from schemas.__main__ import SCHEMA_FILES, render


def make(**overrides):
    text = overrides.pop("text", "Erster Absatz.\n\nZweiter Absatz mit mehr Wörtern.")
    fields = dict(
        url="http://127.0.0.1:18080/2019/05/brot/",
        canonical_url="http://127.0.0.1:18080/2019/05/brot/",
        site="http://127.0.0.1:18080/",
        kind="post",
        title="Brot",
        published=datetime(2019, 5, 12, 15, 20, tzinfo=timezone.utc),
        text=text,
        markdown=text,
        word_count=len(text.split()),
        content_hash=content_hash(text),
        fetched_at=datetime(2026, 11, 24, tzinfo=timezone.utc),
        status=200,
        extractor=Extractor(name="blogarchive", version="test"),
    )
    fields.update(overrides)
    return PostRecord(**fields)


@pytest.mark.parametrize("path", sorted(SCHEMA_FILES))
def test_schema_files_are_current(path):
    assert path.read_text(encoding="utf-8") == render(SCHEMA_FILES[path]), (
        f"{path.name} is stale: run  python -m schemas"
    )


def test_valid_record_round_trips_through_json():
    record = make(comments=[Comment(id="3", author="Ann", text="Hallo")])
    again = PostRecord.model_validate_json(record.model_dump_json())
    assert again == record


@pytest.mark.parametrize(
    "overrides, problem",
    [
        ({"published": datetime(2019, 5, 12)}, "timezone"),
        ({"kind": "listing"}, "kind"),
        ({"text": "   "}, "text"),
        ({"word_count": 1}, "word_count"),
        ({"content_hash": "sha256:00"}, "content_hash"),
        ({"url": "/relative/"}, "url"),
        ({"status": 42}, "status"),
        ({"unknown_field": 1}, "unknown_field"),
        ({"comments": [Comment(id="1", text="a"), Comment(id="1", text="b")]}, "comment"),
    ],
)
def test_invalid_records_are_refused(overrides, problem):
    with pytest.raises(ValidationError) as err:
        make(**overrides)
    assert problem in str(err.value).lower()


def test_title_is_optional_and_blank_means_none():
    assert make(title="   ").title is None
    assert make(title=None).title is None
    assert make(title=" Brot ").title == "Brot"


def test_extracted_record_may_lack_urls_but_not_have_bad_ones():
    data = make().model_dump()
    data.update(url=None, canonical_url=None, site=None)
    assert ExtractedRecord(**data).url is None
    with pytest.raises(ValidationError):
        PostRecord(**data)
    data["url"] = "/relative/"
    with pytest.raises(ValidationError):
        ExtractedRecord(**data)


def test_content_hash_is_sha256_of_text():
    assert content_hash("abc") == (
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
