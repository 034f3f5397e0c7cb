"""Pages reached from the subscribe form and from alert emails (issue 12): subscribe,
confirm, manage, unsubscribe.

Owns how these pages answer: what each shows, its status codes, and its headers (never
cached, ``Referrer-Policy: no-referrer`` because the link's token is in the address, never
indexed). The rules are in ``services/subscriptions.py`` and what a link points at in
``alert_links.py``; this module only reads the request, calls them, and shows the outcome.

No CSRF token on any of them, each for a reason:
- subscribe: the form sits in cached public pages, identical for every reader, so it cannot
  hold a per-reader token. A forged request can only ask for a confirmation email to an
  address (double opt-in: nothing is followed until its owner presses Confirm), it touches
  no session, and it is rate-limited per address and per client.
- confirm, manage, unsubscribe: the signed token in the address is the authority, and a
  forging site cannot know it. RFC 8058 one-click unsubscribing is a POST from the mail
  provider, without cookies or a token of ours. (A CSRF cookie would not work here anyway:
  under ``no-referrer`` browsers send ``Origin: null`` with these pages' forms.)

A GET never changes anything: mail scanners fetch every link in an email.

Two languages (issue 13): every page here answers in the language of its address
(``/fr/alerts/...``); a subscription asked for from a French page gets its emails in
French (``Subscriber.language``), which the manage page can change.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from . import alert_links, selectors, services
from .models import Subscriber, Subscription
from .services.subscriptions import labelled, subject_label, subscriber_set_language
from .sign_in import client_ip

#: The honeypot: a field people never see or fill, and form-filling robots do.
HONEYPOT_FIELD = "website"


def private_page(view):
    """Never cached or indexed; the address (its token) never leaves in a Referer."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        patch_cache_control(response, private=True)
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapped


#: The feeds beside the form, by what it follows (the no-email way to follow the same).
FEEDS = {
    "": ("commitments:feed_changes", "commitments:feed_changes_json"),
    "commitment": ("commitments:feed_commitment", "commitments:feed_commitment_json"),
    "actor": ("commitments:feed_actor", "commitments:feed_actor_json"),
    "topic": ("commitments:feed_topic", "commitments:feed_topic_json"),
}


def _form_context(subject: dict) -> dict:
    """What the re-shown form needs to say what it follows, and its feeds."""
    kind, thing = next(iter(subject.items()), ("", None))
    atom, json = FEEDS[kind]
    args = [thing.slug] if thing is not None else []
    return {
        "subject_label": (
            subject_label(Subscription(**subject))
            if thing is not None
            else _("every change on the tracker")
        ),
        "atom_feed": reverse(atom, args=args),
        "json_feed": reverse(json, args=args),
    }


# --- Subscribe ------------------------------------------------------------------------------


@csrf_exempt  # see the module's docstring: double opt-in, no session, rate-limited
@require_POST
@private_page
def subscribe(request: HttpRequest):
    values = {name: request.POST.get(name, "").strip() for name in ("email", "frequency")}
    values["subject"] = request.POST.get("subject", "").strip()
    context = {"values": values, "subject_value": values["subject"]}
    subject = selectors.followable_subject(values["subject"])
    try:
        if subject is None:
            raise ValidationError(
                {"subject": _("What this form follows is no longer published: reload its page.")}
            )
        context.update(_form_context(subject))
        result = services.subscription_request(
            email=values["email"],
            frequency=values["frequency"],
            client_ip=client_ip(request),
            honeypot=request.POST.get(HONEYPOT_FIELD, ""),
            language=request.LANGUAGE_CODE,
            **subject,
        )
    except services.SubscriptionThrottled as exc:
        context["throttled"] = str(exc)
        return render(request, "alerts/subscribe.html", context, status=429)
    except ValidationError as exc:
        context["errors"] = {key: messages[0] for key, messages in exc.message_dict.items()}
        return render(request, "alerts/subscribe.html", context, status=400)
    # The same answer whatever the outcome (sent, sent earlier today, already following):
    # the page must not tell a stranger what an address follows.
    context["result"] = result
    context["max_age_hours"] = int(settings.ALERTS_CONFIRM_MAX_AGE_HOURS)
    return render(request, "alerts/subscribe.html", context)


# --- Links from emails -------------------------------------------------------------------------


def _link_error(request: HttpRequest, message: str, *, status: int = 400) -> HttpResponse:
    return render(request, "alerts/link_error.html", {"message": message}, status=status)


def _subscriber(target: alert_links.LinkTarget) -> Subscriber | None:
    """The address a link points at, if it still exists and the link is for its current key."""
    return Subscriber.objects.filter(pk=target.subscriber_id, key=target.key).first()


def _manage_path(subscriber: Subscriber) -> str:
    token = alert_links.make_token(alert_links.MANAGE, subscriber)
    return reverse("commitments:alerts_manage", kwargs={"token": token})


def _subscriptions(subscriber: Subscriber, **filters) -> list[Subscription]:
    """Each with its ``label`` and ``url`` in the page's language."""
    return labelled(
        Subscription.objects.filter(subscriber=subscriber, **filters)
        .select_related("commitment", "actor", "topic")
        .order_by("created_at", "pk")
    )


GONE = gettext_lazy(
    "This address no longer follows anything here: it was unsubscribed, or it was never "
    "confirmed in time. Subscribe again from any commitment's page."
)


@csrf_exempt  # the signed token is the authority
@require_http_methods(["GET", "HEAD", "POST"])
@private_page
def confirm(request: HttpRequest, token: str):
    """GET: what pressing Confirm will confirm. POST: confirm it, then the manage page."""
    try:
        target = alert_links.read_token(alert_links.CONFIRM, token)
    except alert_links.LinkError as exc:
        return _link_error(request, str(exc))
    subscriber = _subscriber(target)
    if subscriber is None:
        return _link_error(request, GONE)
    if request.method == "POST":
        services.subscriptions_confirm(subscriber=subscriber)
        return HttpResponseRedirect(_manage_path(subscriber) + "?confirmed=1", status=303)
    return render(
        request,
        "alerts/confirm.html",
        {
            "subscriber": subscriber,
            "pending": _subscriptions(subscriber, confirmed_at__isnull=True),
            "confirmed": _subscriptions(subscriber, confirmed_at__isnull=False),
        },
    )


@csrf_exempt  # the signed token is the authority
@require_http_methods(["GET", "HEAD", "POST"])
@private_page
def manage(request: HttpRequest, token: str):
    """This address's subscriptions: how often each, stop one, stop all."""
    try:
        target = alert_links.read_token(alert_links.MANAGE, token)
    except alert_links.LinkError as exc:
        return _link_error(request, str(exc))
    subscriber = _subscriber(target)
    if subscriber is None:
        return render(request, "alerts/unsubscribed.html", {"already": True})
    errors = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "remove_all":
            services.subscriber_delete(subscriber=subscriber)
            return render(request, "alerts/unsubscribed.html", {"everything": True})
        if action == "language":
            try:
                subscriber_set_language(
                    subscriber=subscriber, language=request.POST.get("language", "")
                )
            except ValidationError as exc:
                errors["language"] = exc.message_dict["language"][0]
            else:
                return HttpResponseRedirect(request.path + "?saved=1", status=303)
        found = _subscriptions(subscriber, pk=_int(request.POST.get("subscription")))
        subscription = found[0] if found else None
        if subscription is not None and action == "remove":
            if services.subscription_delete(subscription=subscription):
                return render(request, "alerts/unsubscribed.html", {"everything": True})
            return HttpResponseRedirect(request.path + "?removed=1", status=303)
        if subscription is not None and action == "frequency":
            try:
                services.subscription_set_frequency(
                    subscription=subscription, frequency=request.POST.get("frequency", "")
                )
            except ValidationError as exc:
                errors[subscription.pk] = exc.message_dict["frequency"][0]
            else:
                return HttpResponseRedirect(request.path + "?saved=1", status=303)
    return render(
        request,
        "alerts/manage.html",
        {
            "subscriber": subscriber,
            "subscriptions": _subscriptions(subscriber),
            "frequencies": Subscription.Frequency.choices,
            "languages": settings.LANGUAGES,
            "errors": errors,
            "notice": _notice(request),
        },
        status=400 if errors else 200,
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _notice(request: HttpRequest) -> str:
    if request.GET.get("confirmed"):
        return _("Confirmed. You will get an email when what you follow changes.")
    if request.GET.get("saved"):
        return _("Saved.")
    if request.GET.get("removed"):
        return _("Removed. You no longer follow that.")
    return ""


@csrf_exempt  # RFC 8058: the mail provider POSTs without cookies; the token is the authority
@require_http_methods(["GET", "HEAD", "POST"])
@private_page
def unsubscribe(request: HttpRequest, token: str):
    """RFC 8058 one-click: a POST (``List-Unsubscribe=One-Click``) unsubscribes at once and
    answers 200. GET shows a button that does the same. A link for one subscription stops
    only that one; a link for the address stops everything and forgets the address."""
    try:
        target = alert_links.read_token(alert_links.UNSUBSCRIBE, token)
    except alert_links.LinkError as exc:
        return _link_error(request, str(exc))
    subscriber = _subscriber(target)
    subscription = None
    if subscriber is not None and target.subscription_id is not None:
        found = _subscriptions(subscriber, pk=target.subscription_id)
        subscription = found[0] if found else None
    gone = subscriber is None or (target.subscription_id is not None and subscription is None)
    if gone:
        return render(request, "alerts/unsubscribed.html", {"already": True})
    if request.method == "POST":
        if subscription is None:
            services.subscriber_delete(subscriber=subscriber)
            everything = True
        else:
            everything = services.subscription_delete(subscription=subscription)
        return render(
            request,
            "alerts/unsubscribed.html",
            {
                "everything": everything,
                "subscription": subscription,
                "manage_path": "" if everything else _manage_path(subscriber),
            },
        )
    return render(
        request,
        "alerts/unsubscribe.html",
        {
            "subscriber": subscriber,
            "subscription": subscription,
            "subscriptions": _subscriptions(subscriber) if subscription is None else [],
        },
    )
