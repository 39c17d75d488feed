"""URL routes: the dashboards and API (etl.web.urls) and the admin."""
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("etl.web.urls")),
]
