"""The newsroom's roles: the one table of group names and what each may do, and the
read-only rules that follow from it. Every other module names a role or a permission
through this file. Must not write: the groups are synced and accounts changed by
``services/accounts.py``; the sync runs after every ``migrate`` (``apps.py``).

- **Editor**: creates and edits draft commitments, actors, topics, sources, statements,
  indicators and observations; logs status updates and records checks. Cannot publish,
  and cannot delete anything that is public (the admin refuses that object by object).
- **Publisher**: everything an editor does, plus publishing and unpublishing commitments
  and acknowledging and resolving flags.
- **Admin**: manages accounts within these three roles: creates them, gives one of the
  roles, deactivates them, resets passwords, and unlocks sign-ins throttled by
  django-axes; registers newsrooms' webhook endpoints and reads their delivery log;
  sees and deletes readers' email subscriptions (personal data: never added or edited).
  Nothing above the roles: only a superuser grants superuser or staff
  rights or single permissions, changes what a role may do (the groups' permissions), or
  edits a superuser's account (see ``user_can_manage``).

Staff access follows the role: ``services.accounts.user_set_role`` sets ``is_staff``, and
taking every role away from a non-superuser takes it away. Changing a role here and
migrating is all it takes.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

EDITOR = "Editor"
PUBLISHER = "Publisher"
ADMIN = "Admin"
ROLES = (EDITOR, PUBLISHER, ADMIN)
#: The roles' names are stored in English (the groups'); shown translated (``forms.py``).
_ROLE_NAMES = (gettext_noop("Editor"), gettext_noop("Publisher"), gettext_noop("Admin"))
#: Roles that must use two-factor sign-in when ``REQUIRE_2FA`` is on (as superusers must).
TWO_FACTOR_ROLES = (PUBLISHER, ADMIN)

#: The permissions the admin and the services check, by name.
PUBLISH_PERMISSION = "commitments.publish_commitment"
RESOLVE_PERMISSION = "commitments.resolve_flag"
MANAGE_USERS_PERMISSION = "auth.change_user"
#: Seeing drafts in the admin, and so previewing one at its future address.
VIEW_DRAFTS_PERMISSION = "commitments.view_commitment"
ADD_USERS_PERMISSION = "auth.add_user"
#: Making failed or pending webhook deliveries due again ("retry now" in the delivery log).
RETRY_WEBHOOKS_PERMISSION = "commitments.change_webhookdelivery"

_EDITED = ["actor", "topic", "source", "statement", "indicator", "observation", "commitment"]
_INLINES = ["commitmentactor", "commitmentrelation"]

_EDITOR_PERMISSIONS = (
    [f"commitments.{action}_{model}" for model in _EDITED for action in ("view", "add", "change")]
    # Deleting is refused object by object for anything public (see admin.py).
    + [f"commitments.delete_{model}" for model in _EDITED]
    + [
        f"commitments.{action}_{model}"
        for model in _INLINES
        for action in ("view", "add", "change", "delete")
    ]
    # The timeline is append-only: adding and reading, never changing or deleting.
    + ["commitments.view_statusupdate", "commitments.add_statusupdate", "commitments.view_flag"]
    # Checks ("checked, nothing new") are append-only too.
    + ["commitments.view_check", "commitments.add_check"]
    # Changes to public material are proposed as revisions; a publisher applies them.
    + ["commitments.view_revision"]
)

ROLE_PERMISSIONS: dict[str, list[str]] = {
    EDITOR: _EDITOR_PERMISSIONS,
    PUBLISHER: _EDITOR_PERMISSIONS + [PUBLISH_PERMISSION, RESOLVE_PERMISSION],
    # Accounts are deactivated, never deleted (what they recorded keeps its author), and
    # the groups are read-only: what a role may do is decided here, by a superuser's deploy.
    ADMIN: [
        "auth.view_user",
        ADD_USERS_PERMISSION,
        MANAGE_USERS_PERMISSION,
        "auth.view_group",
        # Unlocking a throttled sign-in is deleting its attempt record.
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accesslog",
        # Newsrooms' webhook endpoints: registered, changed and switched off (never
        # deleted, so their delivery log stays), and the delivery log, read-only except
        # for "retry now".
        "commitments.view_webhookendpoint",
        "commitments.add_webhookendpoint",
        "commitments.change_webhookendpoint",
        "commitments.view_webhookdelivery",
        RETRY_WEBHOOKS_PERMISSION,
        "commitments.view_webhookattempt",
        # Readers' email addresses (issue 12): seen and deleted on request, never edited.
        "commitments.view_subscriber",
        "commitments.delete_subscriber",
        "commitments.view_subscription",
        "commitments.delete_subscription",
    ],
}


def user_role(user) -> str | None:
    """The user's role, or None."""
    names = [g.name for g in user.groups.all() if g.name in ROLES]
    return next((role for role in reversed(ROLES) if role in names), None)


def user_can_manage(*, by, user) -> bool:
    """May ``by`` change ``user``'s account (role, details, active, password)?

    A superuser may change anyone. Anyone else needs ``auth.change_user`` (the Admin role)
    and a target that holds nothing above the roles: not a superuser, no single
    permissions, no group other than the three roles. ``user`` is judged as stored."""
    if by.is_superuser:
        return True
    if not (by.is_active and by.has_perm(MANAGE_USERS_PERMISSION)):
        return False
    if user.pk is None:
        return by.has_perm(ADD_USERS_PERMISSION)
    stored = type(user).objects.get(pk=user.pk)
    return not (
        stored.is_superuser
        or stored.user_permissions.exists()
        or stored.groups.exclude(name__in=ROLES).exists()
    )
