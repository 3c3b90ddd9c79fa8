"""The verification lifecycle shared by organisations and villages: pending → verified | rejected.

A rejected applicant may correct its details and apply again (rejected → pending); a curator may
suspend a verified one that turns out to be false (verified → rejected), with a reason.
"""
import enum


class VerificationStatus(enum.StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


ALLOWED = {
    VerificationStatus.PENDING: {VerificationStatus.VERIFIED, VerificationStatus.REJECTED},
    VerificationStatus.VERIFIED: {VerificationStatus.REJECTED},
    VerificationStatus.REJECTED: {VerificationStatus.PENDING},
}

STATUS_VALUES = [s.value for s in VerificationStatus]


class TransitionError(Exception):
    """A status change the lifecycle does not allow."""

    def __init__(self, current, target):
        super().__init__(f"cannot go from {current} to {target}")
        self.current, self.target = current, target


def check_transition(current, target):
    if target not in ALLOWED.get(current, set()):
        raise TransitionError(current, target)


def status_check(table):
    """A CHECK constraint keeping the status column to the lifecycle's values."""
    from sqlalchemy import CheckConstraint

    values = ", ".join(f"'{v}'" for v in STATUS_VALUES)
    return CheckConstraint(f"status IN ({values})", name="status_valid")
