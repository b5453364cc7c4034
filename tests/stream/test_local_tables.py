"""The RocksDB worker's local table files after a clean stop and after a crash."""

from __future__ import annotations

from cdi.stream.local_tables import MARKER, LocalTables


def test_a_clean_stop_keeps_the_local_tables(tmp_path):
    tables = tmp_path / "app-data" / "tables"
    (tables / "incidents-0.db").mkdir(parents=True)
    first = LocalTables(tables)
    assert first.open() is False
    assert (tmp_path / "app-data" / MARKER).exists()
    first.close()
    assert not (tmp_path / "app-data" / MARKER).exists()
    assert LocalTables(tables).open() is False
    assert (tables / "incidents-0.db").is_dir()


def test_after_a_crash_the_local_tables_are_dropped_for_the_changelog(tmp_path):
    tables = tmp_path / "app-data" / "tables"
    (tables / "incidents-0.db").mkdir(parents=True)
    LocalTables(tables).open()  # a run that never reaches close(): killed
    again = LocalTables(tables)
    assert again.open() is True
    assert not tables.exists()
    assert (tmp_path / "app-data" / MARKER).exists()  # this run is in progress in turn


def test_a_fresh_data_directory_needs_nothing_dropped(tmp_path):
    tables = tmp_path / "new" / "tables"
    assert LocalTables(tables).open() is False
    assert (tmp_path / "new" / MARKER).exists()
