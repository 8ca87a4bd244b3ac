"""How people are named on pages, in messages and e-mails."""


def display_name(user, fallback: str = "") -> str:
    """Return a user's full name (Chinese names family name first, no space),
    else their username, else ``fallback``."""
    if user is None:
        return fallback
    first, last = user.first_name.strip(), user.last_name.strip()
    if first and last and _is_cjk(first + last):
        return f"{last}{first}"
    return user.get_full_name() or user.get_username()


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)
