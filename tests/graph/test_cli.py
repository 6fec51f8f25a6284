"""`kg lineage`, `kg path`, `kg neighbors`, `kg graph build|export` on the default corpus."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from kg.store import Store

LINES = ["SD v1.2-1.4", "SD v1.5", "SD 2-base", "SD 2 ", "SD 2.1 ", "SD 2.1-unclip", "SDXL ", "SDXL-Turbo",
         "SDXL-Lightning", "SD3.0"]


def test_lineage_up_of_sdxl_reaches_ldm(kg):
    res = kg("lineage", "SDXL", "--up")
    assert res.exit_code == 0, res.output
    assert "SDXL (2023) [2307.01952]" in res.output
    assert "extends → LDM (2021) [2112.10752]" in res.output
    assert "Descendants" not in res.output


def test_lineage_down_of_ldm_lists_the_sd_lines_and_sdxl_family(kg):
    res = kg("lineage", "LDM", "--down")
    assert res.exit_code == 0, res.output
    missing = [name for name in LINES if name not in res.output]
    assert missing == []
    assert "SD v1.5 (2022) [system:sd-v1-5] — finetuned_from" in res.output
    assert "SDXL-Turbo (2023) [system:sdxl-turbo] — distilled_from [named]" in res.output


def test_lineage_json_and_evidence(kg):
    data = json.loads(kg("lineage", "SD 2.1", "--json").output)
    assert data["id"] == "system:sd-2-1" and {"up", "down"} <= data.keys()
    parent = data["up"]["children"][0]
    assert parent["id"] == "system:sd-2" and parent["relation"] == "finetuned_from"
    assert parent["edge"]["evidence_ref"].endswith(":28") and parent["edge"]["provenance"]
    out = kg("lineage", "SD 2.1", "--up", "--depth", "1", "--evidence").output
    assert "“Finetuned from SDv2.0 with a less restrictive NSFW filtering of LAION-5B dataset.”" in out
    assert "SD 2-base" not in out


def test_a_record_without_lineage_says_so(kg):
    res = kg("lineage", "PuLID")
    assert res.exit_code == 0 and res.output.count("none that the lists state") == 2


def test_path_from_ddpm_to_sdxl_turbo_every_hop_with_evidence_and_source(kg):
    res = kg("path", "DDPM", "SDXL-Turbo", "--json")
    assert res.exit_code == 0, res.output
    path = json.loads(res.output)
    assert path["start"] == "2006.11239" and path["end"] == "system:sdxl-turbo"
    assert path["hops"]
    for hop in path["hops"]:
        assert hop["evidence"] and hop["evidence_ref"] and hop["provenance"] and hop["relation"]
    text = kg("path", "DDPM", "SDXL-Turbo").output
    assert text.splitlines()[0].startswith("DDPM (2020) [2006.11239] → SDXL-Turbo (2023)")
    assert "source: curated:lineage.csv:" in text and "evidence: reading-lists/" in text


def test_path_without_a_line_of_lineage_suggests_wider_edges(kg):
    res = kg("path", "PuLID", "DDPM")
    assert res.exit_code == 2 and "no path between PuLID and DDPM" in res.output and "--via" in res.output


@pytest.mark.parametrize("args", [["lineage", "SDXLL"], ["path", "DDPM", "SDXLL"], ["neighbors", "SDXLL"],
                                  ["graph", "export", "--lineage", "SDXLL"]])
def test_unknown_names_get_the_closest_suggestions_and_status_2(kg, args):
    res = kg(*args)
    assert res.exit_code == 2
    assert "no paper or system matches 'SDXLL'; closest: 2307.01952 (SDXL)" in res.output


def test_neighbors_by_kind(kg):
    res = kg("neighbors", "LDM", "--kind", "lineage")
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[1] == "lineage →" and "lineage ←" in res.output
    assert "authored_by" not in res.output
    data = json.loads(kg("neighbors", "LDM", "--kind", "authored_by", "--json").output)
    assert data["neighbors"][0]["label"] == "Robin Rombach"
    assert kg("neighbors", "LDM", "--kind", "friends").exit_code == 2


def test_graph_build_saves_the_graph_and_export_reads_it(kg, data_copy, tmp_path):
    res = kg("graph", "build", "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["unresolved_rows"] == [] and report["edges"]["lineage"] >= 29
    assert Store.at(data_copy).build_path("graph.json").exists()
    out = tmp_path / "kg.graphml"
    assert kg("graph", "export", "--format", "graphml", "--out", str(out)).exit_code == 0
    back = nx.read_graphml(out)
    assert back.number_of_nodes() == sum(report["nodes"].values())
    assert back.number_of_edges() == sum(report["edges"].values())


def test_export_of_a_lineage_family_as_node_link_json(kg):
    res = kg("graph", "export", "--format", "json", "--lineage", "SDXL", "--depth", "1")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert {n["id"] for n in data["nodes"]} == {"2307.01952", "2112.10752", "system:sdxl-turbo", "2402.13929"}
    assert all(e["provenance"] for e in data["edges"])
