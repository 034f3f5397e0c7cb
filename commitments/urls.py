from django.urls import path

from . import views

app_name = "commitments"

urlpatterns = [
    path("", views.home, name="home"),
    path("commitments/", views.commitment_list, name="commitment_list"),
    path("commitments/<slug:slug>/", views.commitment_detail, name="commitment_detail"),
    path("actors/<slug:slug>/", views.actor_detail, name="actor_detail"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic_detail"),
]
