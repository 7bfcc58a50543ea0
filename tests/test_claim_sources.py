"""Each claim under its own source (issue 30): a figure belongs to the work that reports it, not to the work
that made the model; the INT305 report's figures about GECCO are the report's, not Fein-Ashley et al.'s."""
from __future__ import annotations

import pytest

from mnistlib.course.answer import answer_rows
from mnistlib.data import REPOSITORY_ROOT
from mnistlib.models import SOURCES, Claim, get_model_info, list_models
from mnistlib.study import NO_VERDICT, STUDY_OUT, ablation_beside, claim_rows, load_records, pending_models

STUDY = REPOSITORY_ROOT / STUDY_OUT


def all_claims() -> list[tuple[str, Claim]]:
    return [(model, claim) for model in list_models() for claim in get_model_info(model).claims]


def test_every_claim_names_a_known_source_and_its_place_agrees():
    for model, claim in all_claims():
        assert claim.source in SOURCES, (model, claim)
        assert ("INT305" in claim.where) == (claim.source == "INT305 report"), (model, claim)


def test_a_claim_placed_in_one_work_under_another_is_refused():
    with pytest.raises(ValueError, match="its place .* is in INT305 report, but its source is 'Fein-Ashley"):
        Claim("test accuracy %", 99.32, "INT305 report, Table II (average)", source="Fein-Ashley et al. 2024")
    with pytest.raises(ValueError, match="source 'GECCO' is not one of"):
        Claim("test accuracy %", 98.04, "abstract", source="GECCO")


def test_every_row_on_the_summary_and_the_first_page_names_the_claims_own_source():
    records = load_records(STUDY)
    rows = claim_rows(records, pending=pending_models(records), ablation=ablation_beside(STUDY))
    claims = {(model, claim.quantity, f"{claim.value:g}", claim.where): claim for model, claim in all_claims()}
    checked = 0
    for row in rows:
        if row["claim"] == "parameters":
            assert row["source"] == "INT305 report" or row["where"].startswith(row["source"]), row
            continue
        claim = claims[(row["model"], row["claim"], row["reported"], row["where"])]
        assert row["source"] == claim.source, row
        assert row["verdict"].startswith(NO_VERDICT) == bool(claim.no_verdict) or row["verdict"].startswith("pending")
        checked += 1
    assert checked == len(all_claims())
    shown = answer_rows(records, ablation_beside(STUDY))
    assert [r["source, model"] for r in shown] == [f"{r['source']}, `{r['model']}`" for r in rows]
    summary = (STUDY / "summary.md").read_text()
    assert "| gecco | INT305 report | test accuracy % | 99.32 |" in summary
    assert "| gecco | Fein-Ashley et al. 2024 | test accuracy % | 98.04 |" in summary


def test_the_reports_own_contradiction_on_gecco_has_its_row():
    gecco = get_model_info("gecco").claims
    section_v = [c for c in gecco if "1.95" in c.where]
    assert len(section_v) == 1 and section_v[0].value == pytest.approx(100 - 1.95)
    assert section_v[0].source == "INT305 report" and "99.32" in section_v[0].note


def test_a_short_verdict_drops_only_the_measurement_its_table_shows_beside_it():
    from mnistlib.study.claims import short_verdict

    assert short_verdict("exceeded: 99.61 (95% CI 99.52–99.7), 0.07 points above the claim") == \
        "exceeded: 0.07 points above the claim"
    assert short_verdict("not reproduced: best seed 99.61, 0.11 points below the claim") == \
        "not reproduced: 0.11 points below the claim"
    assert short_verdict("reproduced: 99.58 (95% CI 99.2–99.96)") == "reproduced"
    for kept in ("one seed (99.7): no verdict", "no figure reported", "untested: the smoke profile"):
        assert short_verdict(kept) == kept
