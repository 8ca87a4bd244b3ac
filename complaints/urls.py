from django.urls import path

from .views import home

app_name = "complaints"

urlpatterns = [
    path("", home.home, name="home"),
]
