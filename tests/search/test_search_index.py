"""The index on disk: create, update, delete, rebuild and swap, stamps, check, locking."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from pathlib import Path

import pytest

from search_index import (
    IndexLocked,
    IndexUnavailable,
    SearchIndex,
    document_fields,
    search,
)


def need(n: int, title: str = "花椒销售", stamp: str = "v1", **fields) -> dict:
    return {"doc_id": f"need:{n}", "kind": "need", "obj_id": n, "title": title,
            "body": f"第{n}号需求", "stamp": stamp, **fields}


def live_dir(index: SearchIndex) -> Path:
    return Path(os.path.realpath(index.path))


def biggest_segment(index: SearchIndex) -> Path:
    return max(live_dir(index).glob("*.seg"), key=lambda p: p.stat().st_size)


def test_a_new_index_exists_and_is_empty(tmp_path):
    index = SearchIndex(tmp_path / "search")
    assert not index.exists() and not index.check()
    index.create()
    assert index.exists() and index.check()
    assert index.doc_count() == 0 and index.stamps() == {}
    assert Path(index.path).is_symlink() and live_dir(index).parent == tmp_path
    index.close()


def test_searching_a_missing_index_raises_index_unavailable(tmp_path):
    index = SearchIndex(tmp_path / "nowhere")
    with pytest.raises(IndexUnavailable):
        search(index, "花椒")
    with pytest.raises(IndexUnavailable):
        index.update([need(1)])
    with pytest.raises(IndexUnavailable):
        index.open()


def test_update_adds_then_replaces_by_doc_id(index):
    assert index.update([need(1), need(2, title="茶叶销售")]) == 2
    assert index.doc_count() == 2
    assert index.update([need(1, title="核桃销售", stamp="v2")]) == 1
    assert index.doc_count() == 2
    assert search(index, "花椒").total == 0
    assert [i["doc_id"] for i in search(index, "核桃").items] == ["need:1"]
    assert index.stamps() == {"need:1": "v2", "need:2": "v1"}


def test_update_of_nothing_writes_nothing(index):
    assert index.update([]) == 0 and index.delete([]) == 0


def test_a_document_already_indexed_with_its_stamp_is_not_written_again(index):
    index.update([need(1), need(2)])
    generation = index.open().latest_generation()
    assert index.update([need(1), need(2)]) == 0  # the same stamps: no commit at all
    assert index.delete(["need:99"]) == 0         # nothing there to delete: no commit either
    assert index.open().latest_generation() == generation
    assert index.update([need(1), need(2, title="核桃销售", stamp="v2")]) == 1  # only the changed one
    assert index.open().latest_generation() == generation + 1
    assert [i["doc_id"] for i in search(index, "核桃").items] == ["need:2"]


def test_delete_removes_and_counts_only_what_was_there(index):
    index.update([need(1), need(2), need(3)])
    assert index.delete(["need:2", "need:99"]) == 1
    assert index.doc_count() == 2
    assert {i["doc_id"] for i in search(index, "花椒").items} == {"need:1", "need:3"}
    assert set(index.stamps()) == {"need:1", "need:3"}


def test_rebuild_swaps_in_a_new_directory_and_keeps_only_the_new_documents(index):
    index.update([need(1), need(2)])
    old_dir = live_dir(index)
    assert search(index, "花椒").total == 2  # the shared searcher is open on the old index
    calls = []
    count = index.rebuild(
        (need(n, title="茶叶销售", stamp="v9") for n in range(10, 1210)),
        total=1200, progress=lambda done, total: calls.append((done, total)),
    )
    assert count == 1200
    assert live_dir(index) != old_dir and not old_dir.exists()
    assert search(index, "花椒").total == 0
    assert search(index, "茶叶").total == 1200
    assert index.doc_count() == 1200
    assert set(index.stamps().values()) == {"v9"}
    assert calls[0] == (500, 1200) and calls[-1] == (1200, 1200)
    # Only the link and the live build are left in the data folder.
    assert sorted(p.name for p in Path(index.path).parent.iterdir()) == sorted(
        ["search", live_dir(index).name]
    )


def test_a_failed_rebuild_leaves_the_live_index_alone(index):
    index.update([need(1)])
    before = live_dir(index)

    def broken():
        yield need(2)
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        index.rebuild(broken())
    assert live_dir(index) == before
    assert index.stamps() == {"need:1": "v1"}
    assert sorted(p.name for p in Path(index.path).parent.iterdir()) == sorted(
        ["search", before.name]
    )


def test_rebuild_rejects_duplicate_doc_ids(index):
    with pytest.raises(ValueError, match="duplicate"):
        index.rebuild([need(1), need(1)])


def test_rebuild_replaces_a_plain_directory_index(tmp_path):
    from whoosh import index as whoosh_index

    from search_index import make_schema

    plain = tmp_path / "search"
    plain.mkdir()
    whoosh_index.create_in(str(plain), make_schema())
    index = SearchIndex(plain)
    index.update([need(1)])
    assert search(index, "花椒").total == 1
    index.rebuild([need(2, title="茶叶")])
    assert Path(index.path).is_symlink()
    assert search(index, "茶叶").total == 1 and search(index, "花椒").total == 0
    index.close()


def test_an_index_built_with_an_older_schema_is_unavailable_until_rebuilt(tmp_path):
    from whoosh import index as whoosh_index

    from search_index import make_schema

    old = tmp_path / "search"
    old.mkdir()
    schema = make_schema()
    schema.remove("people")  # the field this version added
    whoosh_index.create_in(str(old), schema)
    index = SearchIndex(old)
    assert index.exists() and not index.check()
    with pytest.raises(IndexUnavailable):
        search(index, "花椒")
    with pytest.raises(IndexUnavailable):
        index.update([need(1, people=30)])
    index.rebuild([need(1, people=30)])
    assert index.check()
    assert search(index, "花椒").items[0]["people"] == 30
    index.close()


def test_check_is_false_for_a_truncated_segment_and_rebuild_recovers(index):
    index.update([need(n) for n in range(300)])
    index.close()  # the truncated file must not be mapped by this process
    segment = biggest_segment(index)
    with open(segment, "r+b") as f:
        f.truncate(segment.stat().st_size // 2)
    reopened = SearchIndex(index.path)
    assert reopened.exists() and not reopened.check()
    with pytest.raises(IndexUnavailable):
        search(reopened, "花椒")
    with pytest.raises(IndexUnavailable):
        reopened.update([need(1)])
    reopened.rebuild([need(1)])
    assert reopened.check() and search(reopened, "花椒").total == 1
    reopened.close()


def test_check_is_false_for_a_garbled_segment(index):
    index.update([need(n, body="凉山州昭觉县三河村花椒丰收" * 10) for n in range(300)])
    index.close()
    segment = biggest_segment(index)
    size = segment.stat().st_size
    with open(segment, "r+b") as f:
        f.seek(size // 3)
        f.write(b"\xa5" * (size // 3))
    reopened = SearchIndex(index.path)
    assert not reopened.check()
    with pytest.raises(IndexUnavailable):
        search(reopened, "花椒")


def test_check_is_false_for_a_garbled_table_of_contents(index):
    index.update([need(1)])
    index.close()
    (toc,) = live_dir(index).glob("*.toc")
    toc.write_bytes(b"\x00" * 16 + toc.read_bytes()[16:])
    damaged = SearchIndex(index.path)
    assert damaged.exists() and not damaged.check() and not damaged.check(thorough=False)
    with pytest.raises(IndexUnavailable):
        damaged.doc_count()


def test_a_briefly_held_lock_is_waited_for(index):
    index.update([need(1)])
    other = index.open().writer()  # another process's writer, say
    released = threading.Event()

    def release_soon():
        time.sleep(0.4)
        other.cancel()
        released.set()

    threading.Thread(target=release_soon).start()
    assert index.update([need(2)]) == 1
    assert released.is_set()
    assert index.doc_count() == 2


def test_a_lock_held_too_long_raises_index_locked(index):
    other = index.open().writer()
    try:
        started = time.monotonic()
        with pytest.raises(IndexLocked):
            index.update([need(1)])
        assert 0.9 < time.monotonic() - started < 3  # write_timeout=1.0 in the fixture
    finally:
        other.cancel()
    assert index.update([need(1)]) == 1


def test_a_write_waiting_behind_a_rebuild_lands_in_the_new_index(index):
    index.update([need(1)])
    started = threading.Event()

    def slow_docs():
        started.set()
        for n in range(100, 110):
            time.sleep(0.03)
            yield need(n, title="茶叶")

    thread = threading.Thread(target=index.rebuild, args=(slow_docs(),))
    thread.start()
    started.wait()
    index.update([need(2, title="核桃")])  # waits for the rebuild's lock
    thread.join()
    assert search(index, "核桃").total == 1
    assert search(index, "茶叶").total == 10
    assert search(index, "花椒").total == 0


def test_document_fields_validates_and_converts():
    fields = document_fields({
        "doc_id": "village:7", "kind": "village", "obj_id": 7, "title": "三河村",
        "place": ["四川省", "凉山彝族自治州", "昭觉县", "三河村"], "deadline": None,
        "created": dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    })
    assert fields["place"] == "四川省 凉山彝族自治州 昭觉县 三河村 凉山州"
    assert fields["_stored_place"] == "四川省凉山彝族自治州昭觉县三河村"
    assert fields["created"] == dt.datetime(2026, 3, 1, 0, 0)  # UTC, naive
    assert "deadline" not in fields
    with pytest.raises(ValueError, match="unknown"):
        document_fields({"doc_id": "need:1", "colour": "red"})
    with pytest.raises(ValueError, match="doc_id"):
        document_fields({"kind": "need"})
    with pytest.raises(ValueError, match="kind"):
        document_fields({"doc_id": "pledge:1", "kind": "pledge"})
    with pytest.raises(ValueError, match="progress"):
        document_fields({"doc_id": "need:1", "progress": 10001})
    with pytest.raises(ValueError, match="obj_id"):
        document_fields({"doc_id": "need:1", "obj_id": "1"})


def test_dates_round_trip_as_utc(index):
    index.update([need(1, created=dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
                       deadline=dt.date(2026, 4, 1))])
    (item,) = search(index, "花椒").items
    assert item["created"] == dt.datetime(2026, 3, 1, 0, 0)
    assert item["deadline"] == dt.datetime(2026, 4, 1)
