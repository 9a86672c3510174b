"""SQLAlchemy models, one module per part of the domain."""
from portal.models.address import Address, AddressLevel, AddressPairDismissal, AddressStatus, PlaceName
from portal.models.api import ApiToken, IdempotencyRecord
from portal.models.audit import AuditEvent
from portal.models.base import Base
from portal.models.draft import Draft
from portal.models.jurisdiction import Beat, Bureau, Station
from portal.models.keys import DataKey
from portal.models.message import OutboxMessage
from portal.models.privacy import AccessChallenge, RecordAccess
from portal.models.quality import QualityAddress, QualityCoverage, QualityFiled, QualityOpen
from portal.models.register import House, HouseUse, IdType, Person, RecordStatus, Tenancy
from portal.models.submission import Decision, Submission, SubmissionKind, SubmissionStatus
from portal.models.unit import Employment, SpecialTrade, StaffImport, Unit, UnitType
from portal.models.user import LoginSource, Role, User

__all__ = [
    "AccessChallenge", "Address", "AddressLevel", "AddressPairDismissal", "AddressStatus", "ApiToken", "AuditEvent",
    "Base", "Beat", "Bureau", "DataKey", "Decision", "Draft", "Employment", "House", "HouseUse", "IdType",
    "IdempotencyRecord", "LoginSource", "OutboxMessage", "Person", "PlaceName", "QualityAddress", "QualityCoverage",
    "QualityFiled", "QualityOpen", "RecordAccess", "RecordStatus", "Role", "SpecialTrade", "StaffImport", "Station",
    "Submission", "SubmissionKind", "SubmissionStatus", "Tenancy", "Unit", "UnitType", "User"
]
