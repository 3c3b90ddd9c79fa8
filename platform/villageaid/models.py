"""Every model, imported in one place for metadata and migrations."""
from .accounts.models import ApiToken, Invitation, RoleGrant, User  # noqa: F401
from .articles.models import Article  # noqa: F401
from .audit.models import AuditEvent  # noqa: F401
from .matching.models import (NeedInvitation, OrganizationPreference, Pairing, PairingPledge,  # noqa: F401
                              PairingReport, PairingRule, PreferenceItem)
from .needs.models import Need, NeedPhoto, ScreeningFlag, ScreeningRule  # noqa: F401
from .notifications.models import Notification  # noqa: F401
from .organizations.models import Membership, Organization  # noqa: F401
from .pledges.models import Delivery, Evidence, Pledge, Reminder  # noqa: F401
from .queue import OutboxJob  # noqa: F401
from .regions.models import Region  # noqa: F401
from .reports.models import Report, ReportCase  # noqa: F401
from .scheduling import ScheduledTask  # noqa: F401
from .villages.models import Village, VillageImport, VillageMember  # noqa: F401
from .ledger.models import LedgerExport  # noqa: F401
from .spotchecks.models import SpotCheck, SpotCheckEvidence, SpotCheckItem  # noqa: F401
from .honor_roll.models import (HonorRollCandidate, HonorRollCandidateDelivery, HonorRollCategory,  # noqa: F401
                                HonorRollComputation, HonorRollEdition, HonorRollEntry, HonorRollEntryDelivery,
                                HonorRollObjection, HonorRollRevision)
