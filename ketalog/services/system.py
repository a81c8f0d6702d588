"""Work done before anyone logs in, or by the program itself: the only service calls that
take no Context, because there is no user yet (or none acting).

The exceptions, all of them (everything else in ketalog.services takes the Context and
checks the role, reads included):

- pre-login: `auth.login`, `auth.load_user`, `auth.bootstrap_admin` (first run, refused
  once any user exists), `needs_first_admin` below, and the two settings the login
  window needs (`settings.clinic_name_before_login`,
  `settings.auto_logoff_minutes_before_login`);
- start-up: opening and verifying the file, `integrity_problems` below,
  `recovery.*` and `backups.restore_database` / `preview_backup` (each checks an admin's
  password against the backup's own users), `backups.backup_folder` /
  `backup_every_hours` (where the start-up backup goes);
- `admin_recovery.recover_admin` (authorised by the OS account that owns the file);
- the monitor listener (`device_listener`), whose writes are the system actor's, with
  the settings it runs by: `device_feed_settings.feed_settings_for_listener` (the address
  `ketalog listen-hl7` binds) and `settings.alert_thresholds_without_login` (the limits
  device readings are flagged by).
"""

from __future__ import annotations

from ketalog.services.errors import service_boundary
from ketalog.store import users as user_rows
from ketalog.store.connection import second_connection
from ketalog.store.store import Store


@service_boundary
def needs_first_admin(store: Store) -> bool:
    """No user at all: start-up shows the first-run dialog instead of the login."""
    return not user_rows.any_user(store)


@service_boundary
def integrity_problems(store: Store) -> list[str]:
    """SQLite's quick_check on a connection of its own (opened and used on the calling
    thread, so it can run off the GUI thread); problems as sentences, never raised."""
    try:
        worker = second_connection(store)
    except Exception as exc:  # noqa: BLE001 - reported, never raised into the GUI
        return [f"the database could not be opened for the check: {exc}"]
    try:
        return worker.engine.quick_check_problems()
    except Exception as exc:  # noqa: BLE001 - a damaged page can stop the check itself
        return [f"the check stopped: {exc}"]
    finally:
        worker.close()
