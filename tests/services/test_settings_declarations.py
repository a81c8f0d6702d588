"""The declarations are the one source: each default passes its own validator, values
outside the bounds are refused by the service with the field, bound and unit named, every
key read anywhere in ketalog is declared (or listed as structured), and a change is
audited."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketalog.domain.errors import PlausibilityError
from ketalog.services import settings as svc
from ketalog.services.setting_declarations import BY_KEY, SETTINGS, STRUCTURED

pytestmark = pytest.mark.both_engines

KETALOG = Path(__file__).resolve().parents[2] / "ketalog"
NUMERIC = [d for d in SETTINGS if d.kind in ("int", "float", "hours")]


@pytest.mark.parametrize("decl", SETTINGS, ids=lambda d: d.key)
def test_every_default_passes_its_own_validator(decl):
    assert svc.validate(decl, decl.default) == decl.default


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_values_outside_bounds_are_refused_by_the_service(staffed, data):
    store, ctx = staffed
    decl = data.draw(st.sampled_from(NUMERIC))
    assert decl.minimum is not None and decl.maximum is not None
    outside = data.draw(st.one_of(
        st.floats(max_value=decl.minimum, exclude_max=True, allow_nan=False),
        st.floats(min_value=decl.maximum, exclude_min=True, allow_nan=False)))
    value: object = [outside] if decl.kind == "hours" else outside
    before = store.setting(decl.key)
    with pytest.raises(PlausibilityError) as refused:
        svc.change_settings(ctx["admin"], {decl.key: value}, "outside")
    [problem] = refused.value.problems
    assert problem.field == decl.key
    assert f"{decl.minimum:g}-{decl.maximum:g}" in problem.message and decl.unit in problem.message
    assert store.setting(decl.key) == before


@pytest.mark.parametrize("key,value", [("paper_size", "A3"), ("clinic_name", ""),
                                       ("clinic_name", "x" * 121),
                                       ("monitoring_interval_min", 10.5),
                                       ("clinic_logo_b64", b"GIF89a")])
def test_non_numeric_bounds_refused(staffed, key, value):
    _, ctx = staffed
    with pytest.raises(PlausibilityError, match=f"(?i){re.escape(BY_KEY[key].label.split()[0])}"):
        svc.change_settings(ctx["admin"], {key: value})


def keys_read_in_ketalog() -> set[str]:
    """Every key passed to Store.setting / Writer.set_setting, or to the store's settings
    module (imported as `stored`: `stored.value(store, KEY)`), literal or via a constant."""
    keys = set()
    call = re.compile(r"(?:\.(?:set_)?setting\(|\bstored\.[a-z_]+\(\s*[\w.]+,)"
                      r"\s*(\"[a-z0-9_]+\"|'[a-z0-9_]+'|[A-Z_]+)")
    texts = [path.read_text() for path in KETALOG.rglob("*.py")]
    constants = {name: key for text in texts  # constants may be imported from elsewhere
                 for name, key in re.findall(r"^([A-Z_]+) = \"([a-z0-9_]+)\"", text, re.M)}
    for text in texts:
        for found in call.findall(text):
            keys.add(found.strip("\"'") if found[0] in "\"'" else constants[found])
    return keys


def test_every_setting_key_read_in_ketalog_is_declared():
    keys = keys_read_in_ketalog()
    assert {"clinic_name", "hl7_feed", "stock_count_users"} <= keys  # the grep works
    assert keys <= set(BY_KEY) | set(STRUCTURED)
    assert not set(BY_KEY) & set(STRUCTURED)


def test_a_change_is_written_and_audited_in_one_transaction(staffed):
    store, ctx = staffed
    before = len(store.audit_rows())
    changed = svc.change_settings(ctx["admin"], {"paper_size": "Letter", "observation_min": 90,
                                                 "clinic_name": store.setting("clinic_name")},
                                  "new policy")
    assert changed == {"paper_size": "Letter", "observation_min": 90}  # the name is unchanged
    entries = store.audit_rows()[before:]
    assert [(e["table_name"], e["row_uuid"], e["username"], e["reason"]) for e in entries] == [
        ("clinic_settings", "paper_size", "admin", "new policy"),
        ("clinic_settings", "observation_min", "admin", "new policy")]
    assert svc.paper_size(ctx["nurse"]) == "Letter"
    assert svc.readiness_rules(ctx["provider"]).observation_min == 90


def test_a_refused_value_writes_nothing_of_the_others(staffed):
    store, ctx = staffed
    before = len(store.audit_rows())
    with pytest.raises(PlausibilityError):
        svc.change_settings(ctx["admin"], {"paper_size": "Letter", "padss_fit_at": 9})
    assert len(store.audit_rows()) == before and svc.paper_size(ctx["admin"]) == "A4"
