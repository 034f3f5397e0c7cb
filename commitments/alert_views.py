"""Pages reached from alert emails and the subscribe form (issue 12): subscribe, confirm,
manage, unsubscribe. Being written: each answers 501 until its view is built."""

from django.http import HttpResponse


def _not_yet(request, **kwargs):
    return HttpResponse("Not built yet.", status=501, content_type="text/plain")


subscribe = confirm = manage = unsubscribe = _not_yet
