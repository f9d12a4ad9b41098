#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nbaudit.settings")
    from django.core.management import execute_from_command_line

    from nbaudit.startup import StartupRefused

    try:
        execute_from_command_line(sys.argv)
    except StartupRefused as refused:  # said in words; a traceback would only bury it
        sys.exit(f"{refused}")


if __name__ == "__main__":
    main()
