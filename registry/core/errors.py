"""Domain errors that carry a Chinese message naming the field and the reason."""


class InvalidInput(ValueError):
    """Raised by operations for input a form cannot check alone (a unique name taken, a code unknown…)."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class Forbidden(PermissionError):
    """The acting user's role or scope does not allow this action."""
