"""Contains all the data models used in inputs/outputs"""

from .account_connected_data import AccountConnectedData
from .account_connected_data_platform import AccountConnectedDataPlatform
from .account_connected_data_status import AccountConnectedDataStatus
from .account_connected_event import AccountConnectedEvent
from .account_create import AccountCreate
from .account_create_metadata_type_0 import AccountCreateMetadataType0
from .account_deleted_data import AccountDeletedData
from .account_deleted_data_platform import AccountDeletedDataPlatform
from .account_deleted_data_status import AccountDeletedDataStatus
from .account_deleted_event import AccountDeletedEvent
from .account_disconnected_data import AccountDisconnectedData
from .account_disconnected_data_platform import AccountDisconnectedDataPlatform
from .account_disconnected_data_reason import AccountDisconnectedDataReason
from .account_disconnected_data_status import AccountDisconnectedDataStatus
from .account_disconnected_event import AccountDisconnectedEvent
from .account_out import AccountOut
from .account_out_metadata_type_0 import AccountOutMetadataType0
from .account_reauth_required_data import AccountReauthRequiredData
from .account_reauth_required_data_platform import AccountReauthRequiredDataPlatform
from .account_reauth_required_data_status import AccountReauthRequiredDataStatus
from .account_reauth_required_event import AccountReauthRequiredEvent
from .account_status import AccountStatus
from .account_update import AccountUpdate
from .account_update_metadata_type_0 import AccountUpdateMetadataType0
from .advertiser_out import AdvertiserOut
from .advertisers_out import AdvertisersOut
from .backfill_job_out import BackfillJobOut
from .backfill_request import BackfillRequest
from .backfill_status import BackfillStatus
from .connect_in import ConnectIn
from .connect_mode import ConnectMode
from .connect_out import ConnectOut
from .crm_delivery_out import CrmDeliveryOut
from .delivery_status import DeliveryStatus
from .error_body import ErrorBody
from .error_body_details_type_1 import ErrorBodyDetailsType1
from .error_code import ErrorCode
from .error_response import ErrorResponse
from .event_delivery_out import EventDeliveryOut
from .event_feed import EventFeed
from .event_out import EventOut
from .event_out_data import EventOutData
from .event_type import EventType
from .lead_answer import LeadAnswer
from .lead_attribution import LeadAttribution
from .lead_created_event import LeadCreatedEvent
from .lead_detail_out import LeadDetailOut
from .lead_detail_out_raw import LeadDetailOutRaw
from .lead_form_out import LeadFormOut
from .lead_forms_out import LeadFormsOut
from .lead_out import LeadOut
from .lead_probe_out import LeadProbeOut
from .lead_source import LeadSource
from .lead_stats_out import LeadStatsOut
from .lead_stats_out_by_source import LeadStatsOutBySource
from .leads_subscription_lost_data import LeadsSubscriptionLostData
from .leads_subscription_lost_event import LeadsSubscriptionLostEvent
from .leads_subscription_restored_data import LeadsSubscriptionRestoredData
from .leads_subscription_restored_event import LeadsSubscriptionRestoredEvent
from .log_entry_out import LogEntryOut
from .log_entry_out_data import LogEntryOutData
from .page_account_out import PageAccountOut
from .page_crm_delivery_out import PageCrmDeliveryOut
from .page_event_delivery_out import PageEventDeliveryOut
from .page_lead_out import PageLeadOut
from .page_log_entry_out import PageLogEntryOut
from .page_reconciliation_out import PageReconciliationOut
from .platform import Platform
from .probe_request import ProbeRequest
from .probe_status import ProbeStatus
from .profile_out import ProfileOut
from .reconciliation_error import ReconciliationError
from .reconciliation_out import ReconciliationOut
from .reconciliation_status import ReconciliationStatus
from .recover_in import RecoverIn
from .recover_out import RecoverOut
from .stats_history_out import StatsHistoryOut
from .stats_out import StatsOut
from .validation_problem import ValidationProblem
from .video_out import VideoOut
from .video_page_out import VideoPageOut

__all__ = (
    "AccountConnectedData",
    "AccountConnectedDataPlatform",
    "AccountConnectedDataStatus",
    "AccountConnectedEvent",
    "AccountCreate",
    "AccountCreateMetadataType0",
    "AccountDeletedData",
    "AccountDeletedDataPlatform",
    "AccountDeletedDataStatus",
    "AccountDeletedEvent",
    "AccountDisconnectedData",
    "AccountDisconnectedDataPlatform",
    "AccountDisconnectedDataReason",
    "AccountDisconnectedDataStatus",
    "AccountDisconnectedEvent",
    "AccountOut",
    "AccountOutMetadataType0",
    "AccountReauthRequiredData",
    "AccountReauthRequiredDataPlatform",
    "AccountReauthRequiredDataStatus",
    "AccountReauthRequiredEvent",
    "AccountStatus",
    "AccountUpdate",
    "AccountUpdateMetadataType0",
    "AdvertiserOut",
    "AdvertisersOut",
    "BackfillJobOut",
    "BackfillRequest",
    "BackfillStatus",
    "ConnectIn",
    "ConnectMode",
    "ConnectOut",
    "CrmDeliveryOut",
    "DeliveryStatus",
    "ErrorBody",
    "ErrorBodyDetailsType1",
    "ErrorCode",
    "ErrorResponse",
    "EventDeliveryOut",
    "EventFeed",
    "EventOut",
    "EventOutData",
    "EventType",
    "LeadAnswer",
    "LeadAttribution",
    "LeadCreatedEvent",
    "LeadDetailOut",
    "LeadDetailOutRaw",
    "LeadFormOut",
    "LeadFormsOut",
    "LeadOut",
    "LeadProbeOut",
    "LeadSource",
    "LeadsSubscriptionLostData",
    "LeadsSubscriptionLostEvent",
    "LeadsSubscriptionRestoredData",
    "LeadsSubscriptionRestoredEvent",
    "LeadStatsOut",
    "LeadStatsOutBySource",
    "LogEntryOut",
    "LogEntryOutData",
    "PageAccountOut",
    "PageCrmDeliveryOut",
    "PageEventDeliveryOut",
    "PageLeadOut",
    "PageLogEntryOut",
    "PageReconciliationOut",
    "Platform",
    "ProbeRequest",
    "ProbeStatus",
    "ProfileOut",
    "ReconciliationError",
    "ReconciliationOut",
    "ReconciliationStatus",
    "RecoverIn",
    "RecoverOut",
    "StatsHistoryOut",
    "StatsOut",
    "ValidationProblem",
    "VideoOut",
    "VideoPageOut",
)
