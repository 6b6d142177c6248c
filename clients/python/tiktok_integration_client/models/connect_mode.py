from enum import StrEnum


class ConnectMode(StrEnum):
    POPUP = "popup"
    REDIRECT = "redirect"

    def __str__(self) -> str:
        return str(self.value)
