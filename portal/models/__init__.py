"""SQLAlchemy models, one module per part of the domain."""
from portal.models.address import Address, AddressLevel
from portal.models.audit import AuditEvent
from portal.models.base import Base
from portal.models.jurisdiction import Beat, Bureau, Station
from portal.models.user import Role, User

__all__ = ["Address", "AddressLevel", "AuditEvent", "Base", "Beat", "Bureau", "Role", "Station", "User"]
