"""Users and the roles they hold."""
import enum
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..regions.services import division_name
from ..timeutil import utcnow


class Role(enum.StrEnum):
    DONOR = "donor"
    CURATOR = "curator"
    ADMIN = "admin"
    # Enterprise, NGO and village-committee roles follow from memberships (see properties below).


def _new_session_token():
    return secrets.token_urlsafe(16)


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(256))
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Changing it ends every session of the user (Flask-Login's alternative id).
    session_token: Mapped[str] = mapped_column(String(40), default=_new_session_token)
    locale: Mapped[str | None] = mapped_column(String(10))
    public_name_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    grants = relationship("RoleGrant", back_populates="user", cascade="all, delete-orphan", lazy="selectin")
    memberships = relationship("Membership", back_populates="user", lazy="selectin")
    village_memberships = relationship("VillageMember", back_populates="user", lazy="selectin")

    def set_password(self, password):
        from flask import current_app

        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
        self.session_token = _new_session_token()

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    def get_id(self):
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self):
        return self.active

    def has_role(self, role):
        return any(g.role == role for g in self.grants)

    @property
    def is_admin(self):
        return self.has_role(Role.ADMIN)

    @property
    def curator_scopes(self):
        """Region codes this user curates; "" stands for the whole country."""
        return [g.region_code or "" for g in self.grants if g.role == Role.CURATOR]

    @property
    def is_curator(self):
        return self.has_role(Role.CURATOR) or self.is_admin

    @property
    def organizations(self):
        return [m.organization for m in self.memberships]

    @property
    def villages(self):
        return [m.village for m in self.village_memberships]

    def role_names(self):
        """Every role the user holds, derived ones included, for display and the API."""
        names = {g.role.value for g in self.grants}
        for org in self.organizations:
            names.add("enterprise_member" if org.kind.value == "enterprise" else "ngo_member")
        if self.village_memberships:
            names.add("village_committee")
        return sorted(names)

    def __repr__(self):
        return f"<User {self.email}>"


class RoleGrant(db.Model):
    """A role held by a user; a curator's grant is scoped to a region (NULL: national)."""

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("user_id", "role", "region_code", name="uq_role_grant_scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, name="role", native_enum=False, validate_strings=True, values_callable=lambda e: [m.value for m in e]))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))

    user = relationship("User", back_populates="grants")
    region = relationship("Region")  # loaded when used: pages name it with `region_name`

    @property
    def region_name(self):
        """The curator's region (None: national)."""
        return division_name(self.region_code)


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored, and it can be revoked."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user = relationship("User")


class Invitation(db.Model):
    """An e-mailed invitation to join an organisation or a village committee."""

    __tablename__ = "invitation"
    __table_args__ = (
        db.CheckConstraint(
            "(organization_id IS NULL) <> (village_id IS NULL)", name="one_target"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(40))
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organization = relationship("Organization")
    village = relationship("Village")
    invited_by = relationship("User", foreign_keys=[invited_by_id])
