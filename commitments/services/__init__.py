"""Writes with rules. The admin, the management commands and the Celery tasks call these;
none of them keeps its own copy of a rule.

Every function is atomic, validates before it writes, and raises ``ValidationError`` with
a message keyed by the field at fault, so nothing is half saved and the editor reads why.

One module per area; everything is importable from ``commitments.services``.
"""

from .accounts import (  # noqa: F401
    device_confirm,
    device_for_enrolment,
    roles_sync,
    user_create,
    user_save,
    user_set_role,
)
from .alerts import (  # noqa: F401
    alert_message,
    alerts_digest_send,
    alerts_prune,
    alerts_send_due,
    alerts_send_for,
    outbox_sweep,
)
from .archiving import source_archive, source_archive_enqueue  # noqa: F401
from .digest import editors_digest_send  # noqa: F401
from .flags import flags_refresh  # noqa: F401
from .links import sources_check_links  # noqa: F401
from .publishing import (  # noqa: F401
    commitment_publish,
    commitment_publish_errors,
    commitment_unpublish,
    deletion_refusals,
)
from .records import (  # noqa: F401
    TRACKING_PARAMETERS,
    check_errors,
    check_record,
    check_record_once,
    normalise_url,
    source_description_errors,
    source_get_or_create,
    status_update_create,
    status_update_create_once,
    status_update_errors,
)
from .review import flag_acknowledge, flag_resolve  # noqa: F401
from .revisions import (  # noqa: F401
    revision_apply,
    revision_needed,
    revision_reject,
    revision_submit,
)
from .snapshots import (  # noqa: F401
    snapshot_file,
    snapshot_list,
    snapshot_prune,
    snapshot_write,
)
from .subscriptions import (  # noqa: F401
    SubscriptionRequestResult,
    SubscriptionThrottled,
    address_clean,
    confirmations_pending,
    subscriber_delete,
    subscription_confirmation_send,
    subscription_delete,
    subscription_request,
    subscription_set_frequency,
    subscriptions_confirm,
    subscriptions_purge_unconfirmed,
)
from .webhooks import (  # noqa: F401
    webhook_deliveries_retry,
    webhook_endpoint_create,
    webhook_endpoint_errors,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_save,
    webhook_test_event_send,
    webhooks_deliver_due,
)
