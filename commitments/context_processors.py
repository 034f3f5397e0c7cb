from django.conf import settings

SITE_NAME = "Commitment Tracker"


def site(request):
    return {"SITE_NAME": SITE_NAME, "SITE_URL": settings.SITE_URL}
