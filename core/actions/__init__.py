"""One module per thing a person (or the scheduler) does. Each action is a function `(gatehouse, actor, …)` that
opens one unit of work, loads who is acting there, checks the rules (core/rules.py), changes, records the audit
event and the notification, and commits; the unit of work then applies the change to AWS (core/effects.py), and the
action says plainly what AWS has not taken yet.

Every action is importable from here: `from core import actions; actions.approve_request(gatehouse, bob, 7)`."""

from core.access import ExternalNeedsConfirmation, GrantOutcome
from core.actions.add_user import Joiner, add_user
from core.actions.answer_question import answer_question
from core.actions.answer_review import answer_review
from core.actions.approve_request import approve_request
from core.actions.archive_source import Archived, archive_source
from core.actions.ask_question import ask_question
from core.actions.ask_to_extend import ask_to_extend
from core.actions.ask_to_join import JoinAsked, ask_to_join
from core.actions.change_access import change_access, change_team_access
from core.actions.close_stale import close_stale
from core.actions.confirm_request import confirm_request
from core.actions.copy_object import copy, move
from core.actions.create_source import Created, create_source, provision_pending
from core.actions.decide_webapp_source import create_webapp_source, refuse_webapp_source
from core.actions.dismiss_join_request import dismiss_join_request
from core.actions.download import check_download, download
from core.actions.expire import ExpiryReport, expire
from core.actions.grant_access import grant_access, grant_team_access
from core.actions.import_roles import ImportReport, import_roles
from core.actions.mark_left import Departure, Leaving, leaving, mark_left
from core.actions.preview import preview
from core.actions.reconcile import Drift, Repaired, find_drift, repair, retry_pending
from core.actions.record_movement import record_movement, reuse_movement
from core.actions.refuse_request import refuse_request
from core.actions.request_access import request_access
from core.actions.request_webapp_source import request_webapp_source
from core.actions.restore_version import Restored, restore_version
from core.actions.review_grant import Reviewed, keep_the_rest, review_grant
from core.actions.revoke_access import revoke_access, revoke_team_access
from core.actions.run_reviews import ReviewRun, run_reviews
from core.actions.set_classification import Classified, set_classification
from core.actions.sign_in_link import SignInLink, new_sign_in_link
from core.actions.sign_off_movement import refuse_movement, sign_off_movement
from core.actions.sign_review_report import Signed, sign_review_report
from core.actions.start_review import Started, start_review
from core.actions.upload import upload
from core.actions.withdraw_request import withdraw_request

__all__ = [
    "Archived",
    "Classified",
    "Created",
    "Departure",
    "Drift",
    "ExpiryReport",
    "ExternalNeedsConfirmation",
    "GrantOutcome",
    "ImportReport",
    "JoinAsked",
    "Joiner",
    "Leaving",
    "Repaired",
    "Restored",
    "ReviewRun",
    "Reviewed",
    "SignInLink",
    "Signed",
    "Started",
    "add_user",
    "answer_question",
    "answer_review",
    "approve_request",
    "archive_source",
    "ask_question",
    "ask_to_extend",
    "ask_to_join",
    "change_access",
    "change_team_access",
    "check_download",
    "close_stale",
    "confirm_request",
    "copy",
    "create_source",
    "create_webapp_source",
    "dismiss_join_request",
    "download",
    "expire",
    "find_drift",
    "grant_access",
    "grant_team_access",
    "import_roles",
    "keep_the_rest",
    "leaving",
    "mark_left",
    "move",
    "new_sign_in_link",
    "preview",
    "provision_pending",
    "record_movement",
    "refuse_movement",
    "refuse_request",
    "refuse_webapp_source",
    "repair",
    "request_access",
    "request_webapp_source",
    "restore_version",
    "retry_pending",
    "reuse_movement",
    "review_grant",
    "revoke_access",
    "revoke_team_access",
    "run_reviews",
    "set_classification",
    "sign_off_movement",
    "sign_review_report",
    "start_review",
    "upload",
    "withdraw_request",
]
