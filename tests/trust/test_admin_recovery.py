"""The last admin: cannot be deactivated; locked out, recovered by the OS account that
owns the database file (not a password), audited, with a new password and key pair."""

from __future__ import annotations

import pytest

from ketalog.cli import main
from ketalog.domain.entities import Role
from ketalog.services import auth, users
from ketalog.services.admin_recovery import OsAccount, recover_admin
from ketalog.services.errors import AccountLocked, LoginFailed, PermissionDenied, ServiceError
from ketalog.store.connection import open_store
from ketalog.store.verify import verify_store
from tests.store.helpers import ADMIN_PW, make_staff

NEW_PW = "recovered-pass-1"


def _lock(store, clock, username: str) -> None:
    for _ in range(auth.MAX_FAILED_LOGINS):
        with pytest.raises((LoginFailed, AccountLocked)):
            auth.login(store, clock, username, "wrong-password")


def test_the_last_active_admin_cannot_be_deactivated(store, clock):
    staff = make_staff(store, clock)
    auth.add_user(staff.admin, "ada", [Role.ADMIN], "second-admin-1")
    ada = auth.login(store, clock, "ada", "second-admin-1")
    users.set_active(ada, "admin", False, "left the clinic")
    with pytest.raises(ServiceError, match="last active admin"):
        users.set_active(staff.admin, "ada", False, "mistake")


def test_a_locked_out_last_admin_is_recovered_by_the_files_owner(store, clock, capsys,
                                                                  monkeypatch):
    make_staff(store, clock)
    _lock(store, clock, "admin")
    path = store.path
    store.close()
    monkeypatch.setenv("KETALOG_NEW_PASSWORD", NEW_PW)
    assert main(["--db", str(path), "recover-admin", "admin", "--reason", "locked out after "
                 "holiday, identity checked in person"], clock) == 0
    assert "unlocked" in capsys.readouterr().out
    store = open_store(path, clock)
    try:
        with pytest.raises(LoginFailed):
            auth.login(store, clock, "admin", ADMIN_PW)  # the old password is gone
        ctx = auth.login(store, clock, "admin", NEW_PW)
        assert ctx.signing_key is not None
        [entry] = store.audit_rows(action="admin_recovery")
        assert entry["username"].startswith("os:") and "identity checked" in entry["reason"]
        keys = store.rows("user_keys", order_by="id", user_id=ctx.user.id)
        assert keys[-1]["reason"].startswith("admin recovery by OS account")
        assert verify_store(store) == []
    finally:
        store.close()


def test_recovery_is_refused_to_other_accounts_and_while_another_admin_can_unlock(store,
                                                                                  clock):
    staff = make_staff(store, clock)
    _lock(store, clock, "admin")
    stranger = OsAccount(uid=store.path.stat().st_uid + 4242, name="mallory")
    with pytest.raises(PermissionDenied, match="OS account that owns"):
        recover_admin(store, stranger, "admin", NEW_PW, "I forgot my password, honest")
    owner = OsAccount(uid=store.path.stat().st_uid, name="clinic")
    with pytest.raises(ServiceError, match="not an admin"):
        recover_admin(store, owner, "nina", NEW_PW, "a nurse is no admin at all")
    with pytest.raises(ServiceError, match="at least 10"):
        recover_admin(store, owner, "admin", NEW_PW, "why")
    auth.add_user(staff.admin, "ada", [Role.ADMIN], "second-admin-1")
    with pytest.raises(ServiceError, match="another admin can unlock admin in the app: ada"):
        recover_admin(store, owner, "admin", NEW_PW, "there is another admin though")
    assert store.count("audit_log", action="admin_recovery") == 0
