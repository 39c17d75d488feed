"""The settings of the test suite: the product's (project/settings.py), with the app of
test-only summary models (tests/declared_app) installed."""
from project.settings import *  # noqa: F401,F403
from project.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.declared_app"]
