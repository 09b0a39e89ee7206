"""The one exception of reading a study: the folder or a file cannot be read at all."""


class StudyReadError(Exception):
    """The folder cannot be read as a study; the message names the file and the problem."""
