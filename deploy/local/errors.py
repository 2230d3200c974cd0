"""One kind of failure the launcher reports: one line saying what is missing and what to do."""


class LauncherError(Exception):
    """Printed as a single line by the CLI; never a traceback wall."""
