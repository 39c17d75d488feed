"""Routes of the reading side: pages, their CSV (``?format=csv``), the API and its docs."""
from django.contrib.auth import views as auth_views
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from etl.web import api, lists, views
from etl.web.tables import TABLES

urlpatterns = [
    path("", views.overview, name="overview"),
    path("clinics/", views.clinics, name="clinics"),
    path("clinics/<int:clinic_id>/", views.clinic, name="clinic"),
    path("outliers/", lists.outliers, name="outliers"),
    path("staff/", lists.staff, name="staff"),
    path("regions/", lists.regions, name="regions"),
    path("builds/", lists.builds, name="builds"),
    path("login/", auth_views.LoginView.as_view(template_name="etl/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    *[path(f"api/{slug}/", api.endpoint(slug), name=f"api-{slug}") for slug in TABLES],
]
