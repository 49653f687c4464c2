#!/usr/bin/env python
"""The Authlib Django baseline's manage.py (run with bench/.venv-baselines)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authlibsite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
