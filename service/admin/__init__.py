"""The admin console (/admin): roster import and export, users and their roles, process policies and
the list of cases. Pages in pages.py, state changes in operations.py, the lists' queries in queries.py."""
