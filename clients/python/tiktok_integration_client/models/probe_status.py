from enum import StrEnum


class ProbeStatus(StrEnum):
    ARRIVED = "arrived"
    FAILED = "failed"
    MISSING = "missing"
    WAITING = "waiting"

    def __str__(self) -> str:
        return str(self.value)
