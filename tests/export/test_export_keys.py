"""Citation keys: the rule, clashes, and a registry that never renames a key."""

from __future__ import annotations

import json

import pytest

from kg.errors import BadInputError
from kg.export import build_export, export_records
from kg.export.keys import KeyRegistry, build_base_key, load_keys, record_new_keys
from kg.model import Paper, System
from kg.store import Store


def paper(pid: str, title: str, authors: list[str], published: str = "2021-12-20") -> Paper:
    return Paper(id=pid, arxiv_id=pid, title=title, authors=authors, published=published)


@pytest.mark.parametrize("record, key", [
    (paper("2112.10752", "High-Resolution Image Synthesis", ["Robin Rombach"]), "rombach2021high"),
    (paper("2401.00001", "The Art of the Deal", ["Björn Ommer"]), "ommer2021art"),
    (paper("2401.00002", "On a Theory of Everything", ["Tomasz Trzciński"]), "trzcinski2021theory"),
    (paper("2401.00003", "Diffusion", ["Patrick von Platen"]), "platen2021diffusion"),
    (paper("2401.00004", "Sohl", ["Jascha Sohl-Dickstein"]), "sohldickstein2021sohl"),
    (paper("2401.00005", "扩散 Models", ["王小明"]), "wangxiaoming2021kuosan"),
    (paper("2401.00006", "PixArt-Σ: Weak", ["Junsong Chen"]), "chen2021pixart"),
    (Paper(id="title:x", title="A Study"), "anonstudy"),
    (System(id="system:sd-v1-5", name="SD v1.5 (runwayml/stable-diffusion-v1-5)", aliases=["SD v1.5"],
            organisation="RunwayML", date="2022-10"), "runwayml2022sdv15"),
    (System(id="system:sd-2-1", name="stable-diffusion-2-1", organisation="StabilityAI Inc.", date="2022-12"),
     "stabilityai2022stablediffusion21"),
    (System(id="system:flux-1", name="FLUX.1"), "flux1"),
])
def test_base_key_rule(record: Paper | System, key: str) -> None:
    assert build_base_key(record) == key


def test_title_key_is_the_first_significant_word() -> None:
    assert build_base_key(paper("1", "A", ["X Y"])) == "y2021a"  # nothing significant: the first word
    assert build_base_key(paper("2", "", ["X Y"])) == "y2021"


def test_clashes_get_deterministic_suffixes_in_date_then_id_order() -> None:
    early = paper("2401.00002", "Pixart One", ["Junsong Chen"], "2024-01-10")
    late = paper("2403.04692", "PixArt Two", ["Junsong Chen"], "2024-03-07")
    later = paper("2404.00001", "PixArt Three", ["Junsong Chen"], "2024-04-01")
    for order in ([early, late, later], [later, late, early]):
        registry = KeyRegistry()
        registry.assign(order)
        assert [registry.key_of(p.id) for p in (early, late, later)] == [
            "chen2024pixart", "chen2024pixarta", "chen2024pixartb"]


def test_suffixes_continue_past_z() -> None:
    taken = ["", *"abcdefghijklmnopqrstuvwxyz"]
    registry = KeyRegistry({f"x{i}": "a2021b" + s for i, s in enumerate(taken)})
    registry.assign([paper("9999.00001", "B", ["X A"])])
    assert registry.key_of("9999.00001") == "a2021baa"


def test_export_add_clashing_paper_export_again_keeps_every_existing_key(special_store: Store,
                                                                          special_records) -> None:
    assert record_new_keys(special_store)  # `kg ingest` gives the keys out
    first = build_export(special_records, "bibtex", store=special_store)
    # A new paper by the first author of PIXART-δ and PixArt-Σ, dated before both: in a fresh
    # corpus it would take the bare key; here it must take the next free suffix instead.
    newcomer = paper("2401.00099", "PixArt-Ω: Earlier Still", ["Junsong Chen"], "2024-01-01")
    assert build_base_key(newcomer) == first.keys["2401.05252"] == "chen2024pixart"
    special_store.save_papers([*special_store.load_papers(), newcomer])
    assert record_new_keys(special_store) == [newcomer.id]
    second = build_export([*special_records, newcomer], "bibtex", store=special_store)
    for record_id, key in first.keys.items():
        assert second.keys[record_id] == key
    assert second.keys[newcomer.id] == "chen2024pixartb"
    assert second.new_keys == []
    assert "@misc{chen2024pixart,\n" in second.text and "@inproceedings{chen2024pixarta,\n" in second.text


def test_keys_survive_a_changed_title_and_a_removed_record(special_store: Store, special_records) -> None:
    record_new_keys(special_store)
    keys = build_export(special_records, "bibtex", store=special_store).keys
    renamed = [r for r in special_records if r.id == "2401.05252"][0]
    renamed.title = "Something Else Entirely"
    again = build_export([renamed], "bibtex", store=special_store)
    assert again.keys == {"2401.05252": keys["2401.05252"]}
    # The removed PixArt-Σ keeps its key reserved: a newcomer never inherits it.
    special_store.save_papers([p for p in special_store.load_papers() if p.id != "2403.04692"])
    newcomer = paper("2405.00001", "PixArt-Ω", ["Junsong Chen"], "2024-05-01")
    new_key = build_export([newcomer], "bibtex", store=special_store).keys[newcomer.id]
    assert new_key not in keys.values()


def test_keys_do_not_depend_on_which_selection_was_exported_first(tmp_path, special_records) -> None:
    def keys_after(first_selection: list) -> dict[str, str]:
        store = Store(tmp_path / str(len(first_selection)))
        store.save_papers([r for r in special_records if isinstance(r, Paper)])
        store.save_systems([r for r in special_records if isinstance(r, System)])
        build_export(first_selection, "ris", store=store)
        return build_export(special_records, "bibtex", store=store).keys

    assert keys_after(special_records[-3:]) == keys_after(special_records)


def test_registry_file_is_sorted_json_and_rewritten_only_on_change(special_store: Store,
                                                                    special_records) -> None:
    export_records(special_records, "bibtex", store=special_store)
    path = special_store.keys_path
    assert not path.exists(), "exporting never writes the registry"
    record_new_keys(special_store)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == 1
    assert list(data["keys"]) == sorted(data["keys"])
    mtime = path.stat().st_mtime_ns
    assert record_new_keys(special_store) == []
    export_records(special_records, "csl-json", store=special_store)
    assert path.stat().st_mtime_ns == mtime
    assert not list(path.parent.glob(".*.tmp"))


@pytest.mark.parametrize("content, message", [
    ("{not json", "invalid JSON"),
    ('{"keys": []}', "expected"),
    ('{"version": 1, "keys": {"a": "k", "b": "k"}}', "more than one record: k"),
])
def test_a_broken_registry_is_reported_not_overwritten(special_store: Store, content: str,
                                                        message: str) -> None:
    special_store.keys_path.parent.mkdir(parents=True, exist_ok=True)
    special_store.keys_path.write_text(content, encoding="utf-8")
    with pytest.raises(BadInputError, match=message):
        load_keys(special_store)
    with pytest.raises(BadInputError):
        export_records(special_store.load_papers(), "bibtex", store=special_store)
    assert special_store.keys_path.read_text(encoding="utf-8") == content


def test_exporting_the_default_corpus_keeps_the_committed_keys(corpus_store: Store, corpus) -> None:
    committed = load_keys(corpus_store).keys
    assert committed, "data/corpus/bibkeys.json is missing: keys would not be stable across clones"
    exported = build_export(list(corpus.records()), "bibtex", store=corpus_store).keys
    assert {i: k for i, k in exported.items() if i in committed} == {
        i: k for i, k in committed.items() if i in exported}
