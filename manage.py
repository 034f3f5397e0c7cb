#!/usr/bin/env python
import os
import sys
from pathlib import Path


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accountability.settings")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    # The embedded default keeps its SQLite file there, and SQLite makes no folders.
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
