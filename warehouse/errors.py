"""The one exception type users see: a message that says what is wrong and what to do."""


class RatecardError(Exception):
    """A problem the user can act on (bad input, bad configuration, a refused operation).

    The command line prints the message and exits with status 2; it never shows a traceback
    for these.
    """
