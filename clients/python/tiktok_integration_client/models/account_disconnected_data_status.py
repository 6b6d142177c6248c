from enum import StrEnum


class AccountDisconnectedDataStatus(StrEnum):
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    ERROR = "error"
    PENDING = "pending"
    REAUTH_REQUIRED = "reauth_required"

    def __str__(self) -> str:
        return str(self.value)
