#!/usr/bin/env python
"""Django's command-line entry point for the EMR summaries ETL."""
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:  # the settings refused the environment: one line
        sys.stderr.write(f"CommandError: {exc}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
