#!/usr/bin/env python
"""The stock django-oauth-toolkit baseline's manage.py (run with bench/.venv-baselines)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dotsite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
