"""A Django app of test-only summary models (tests/declared.py declares their summaries),
installed only by the test settings (tests/settings.py): no part of the product's schema,
so ``makemigrations --check`` of the ``etl`` app never sees them."""
