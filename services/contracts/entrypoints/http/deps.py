"""What contracts routes need from the request (shared with every service's write routes)."""

from shared.http.commands import command_context, domain_errors

__all__ = ["command_context", "domain_errors"]
