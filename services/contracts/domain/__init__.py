"""The contracts domain: pure aggregates (client, contract), commands, rules, time events.

No I/O here: ids, dates and "today" come in with the commands.
"""
