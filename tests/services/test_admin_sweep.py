"""A nurse, a provider and anyone under emergency access call every admin-only service
directly (no GUI in between): each refuses with PermissionDenied and writes nothing.
The list is checked against the source, so a new admin service cannot be forgotten."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

from ketalog.domain.entities import Role
from ketalog.interop.hl7_codes import CodeRow
from ketalog.services import (
    audit_log,
    auth,
    backups,
    device_feed_config,
    device_feed_overview,
    device_feed_settings,
    emergency,
    encryption,
    fhir_export,
    formulary,
    indications,
    protocols,
    settings,
    stock,
    users,
)
from ketalog.services.context import Context
from ketalog.services.errors import PermissionDenied
from ketalog.services.setting_declarations import SETTINGS

pytestmark = pytest.mark.both_engines

SERVICES = Path(__file__).resolve().parents[2] / "ketalog" / "services"
PROTOCOL = protocols.ProtocolInput("Sweep", "pain", 0.0, 0.5, 60, 1, None, 10)


def calls(tmp: Path) -> dict[str, Callable[[Context], object]]:
    """Every admin-only service function, called with arguments that would succeed."""
    return {
        "auth.add_user": lambda c: auth.add_user(c, "mallory", [Role.ADMIN], "long-password"),
        "auth.unlock": lambda c: auth.unlock(c, "admin", "because"),
        "auth.set_password": lambda c: auth.set_password(c, "admin", "taken-over-1"),
        "auth.list_users": lambda c: auth.list_users(c),
        "users.set_active": lambda c: users.set_active(c, "admin", False, "coup"),
        "protocols.create_protocol": lambda c: protocols.create_protocol(c, PROTOCOL),
        "protocols.update_protocol": lambda c: protocols.update_protocol(c, 1, PROTOCOL, "x"),
        "protocols.new_version": lambda c: protocols.new_version(c, 1, PROTOCOL, "x"),
        "protocols.retire_protocol": lambda c: protocols.retire_protocol(c, 1, "x"),
        "settings.set_alert_thresholds": lambda c: settings.set_alert_thresholds(
            c, settings.alert_thresholds(c), "x"),
        "settings.change_settings": lambda c: settings.change_settings(
            c, {"clinic_name": "Taken over", "paper_size": "Letter"}, "x"),
        "settings.set_clinic_setting": lambda c: settings.set_clinic_setting(
            c, "auto_logoff_min", 240, "x"),
        "backups.set_backup_settings": lambda c: backups.set_backup_settings(c, str(tmp), 1),
        "backups.backup_target": lambda c: backups.backup_target(c, Path(c.store.location), tmp, "manual"),
        "backups.backup_copy": lambda c: backups.backup_copy(c, tmp / "copy.sqlite"),
        "device_feed_settings.save_feed_settings": lambda c: device_feed_settings
        .save_feed_settings(c, device_feed_settings.FeedSettings(enabled=True), "x"),
        "encryption.encrypt_database": lambda c: encryption.encrypt_database(
            c, "a long clinic passphrase", tmp),
        "audit_log.search_audit": lambda c: audit_log.search_audit(c, audit_log.AuditFilter()),
        "audit_log.audit_actions": lambda c: audit_log.audit_actions(c),
        "audit_log.audit_csv": lambda c: audit_log.audit_csv(c, audit_log.AuditFilter()),
        "audit_log.export_audit_csv": lambda c: audit_log.export_audit_csv(
            c, audit_log.AuditFilter(), tmp / "audit.csv"),
        "emergency.pending_reviews": lambda c: emergency.pending_reviews(c),
        "emergency.review_emergency": lambda c: emergency.review_emergency(c, 1, "ok"),
        "indications.add_indication": lambda c: indications.add_indication(c, "sweep", "other"),
        "indications.set_default_protocol": lambda c: indications.set_default_protocol(
            c, 1, None),
        "device_feed_config.add_clinic_code": lambda c: device_feed_config.add_clinic_code(
            c, CodeRow("TEXT", "SWEEP", "hr_bpm", 0, "sweep"), "x"),
        "device_feed_config.map_bed": lambda c: device_feed_config.map_bed(
            c, "BED-9", "Chair 9", "x"),
        "device_feed_config.set_primary_channel": lambda c: device_feed_config
        .set_primary_channel(c, "MON", "temp_c", "1.26.2", "x"),
        "device_feed_config.save_feed_rules": lambda c: device_feed_config.save_feed_rules(
            c, device_feed_config.FeedRules(3.0, "X"), "x"),
        "device_feed_overview.monitor_overview": lambda c: device_feed_overview
        .monitor_overview(c),
        "fhir_export.save_mrn_system": lambda c: fhir_export.save_mrn_system(
            c, "urn:oid:1.2.3", "x"),
        "stock.set_stock_settings": lambda c: stock.set_stock_settings(c, 2, 1.0, "x"),
        "formulary.save_entry": lambda c: formulary.save_entry(c, formulary.FormularyEntry(
            "dexamethasone", "corticosteroids", "IV", "mg", 4, 8, "clinic policy"), "x"),
    }


def admin_only_functions() -> set[str]:
    """Functions in ketalog/services whose permission check names Role.ADMIN alone."""
    found = set()
    for path in SERVICES.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            for call in ast.walk(node):
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "require" and call.args
                        and all(isinstance(a, ast.Attribute) and a.attr == "ADMIN"
                                for a in call.args)):
                    found.add(f"{path.stem}.{node.name}")
    return found


# Their role check is each declared setting's own role (services/setting_declarations.py).
PER_SETTING_ROLE = {"settings.change_settings", "settings.set_clinic_setting"}


def test_the_sweep_lists_every_admin_only_service(tmp_path):
    assert set(calls(tmp_path)) == admin_only_functions() | PER_SETTING_ROLE
    assert all(decl.role is Role.ADMIN for decl in SETTINGS)


@pytest.fixture
def callers(staffed, clock):
    store, ctx = staffed
    grant = emergency.start_emergency(store, clock, "nurse", "nurse-pass-1",
                                      "sweep: does emergency access reach admin functions?")
    return store, {"nurse": ctx["nurse"], "provider": ctx["provider"], "emergency": grant}


@pytest.mark.parametrize("who", ["nurse", "provider", "emergency"])
def test_non_admins_are_refused_by_every_admin_service_and_nothing_is_written(
        callers, who, tmp_path, engine):
    store, ctx = callers
    caller = ctx[who]
    out = tmp_path / "out"  # the database itself lives in tmp_path
    out.mkdir()
    if engine == "sqlite":
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = store.table_counts()
    settings_before = store.rows("clinic_settings", order_by="key")
    for name, call in calls(out).items():
        with pytest.raises(PermissionDenied, match="needs role admin"):
            call(caller)
        assert store.table_counts() == before, name  # audit_log included
    assert store.rows("clinic_settings", order_by="key") == settings_before
    assert not any(out.iterdir())  # no backup, no export, no encrypted copy
    assert store.get_by("users", username="admin")["active"] == 1
