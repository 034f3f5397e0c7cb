from django.conf import settings


def site(request):
    return {"SITE_NAME": "Commitment Tracker", "SITE_URL": settings.SITE_URL}
