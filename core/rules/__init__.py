"""Every rule Gatehouse enforces, said once, on plain values: no database, no AWS, no Streamlit.

A rule is a function that answers allowed-or-why (`Decision`) or a plain fact (`route_request`, `is_live`). The use
cases in core/actions/ load what a rule needs and enforce it; the SQL that mirrors a rule for reads (a live grant, a
source someone may see, an open request) is written once in core/queries.py. One module a kind of rule:

- `people.py`: who may act, hold access, administer or own sources; who sees and manages a source;
- `grants.py`: a live grant, what held access covers, a person's grants side by side on one source (`place_grant`);
- `personal.py`: personal data: a classification's terms, its information asset owner's steps (issue #29);
- `requests.py`: a request's steps and route (`route_request`), who may decide it (`check_may_decide`), what they grant;
- `data.py`: what a person may read or write of a source's objects;
- `reviews.py`: access reviews: who reviews a grant and what a review may change;
- `decision.py`: `Decision`, and the shapes of a person and a request the rules read.

Everything is importable from here: `from core.rules import check_may_decide`, or `rules.place_grant`.
"""

from core.rules.data import (
    SourceAccess,
    check_can_read,
    check_can_write,
    check_level_writes,
    prefixes,
)
from core.rules.decision import (
    ALLOWED,
    Decision,
    Person,
    Request,
)
from core.rules.grants import (
    EndedByLeaving,
    Held,
    check_access_may_change,
    check_end_date,
    check_keeps_an_admin,
    check_no_overlap,
    covers,
    covers_held,
    ended_by_leaving,
    is_live,
    place_grant,
)
from core.rules.people import (
    admin_through_team,
    can_see_source,
    check_manages_source,
    check_may_administer,
    check_may_hold,
    check_may_own_sources,
    check_not_left,
    check_platform_admin,
    check_source_quota,
    is_active,
)
from core.rules.personal import (
    check_classification,
    check_download_signed,
    check_iao_not_first,
    check_may_act_as_iao,
    check_may_be_iao,
    check_may_sign_off,
    check_may_sign_report,
    check_terms,
    iao_may_decide,
    is_stale,
    latest_end,
    leaves_source,
    needs_iao,
    rules_in_words,
    signs_off,
)
from core.rules.requests import (
    MIN_BUSINESS_NEED,
    OPEN,
    TRANSITIONS,
    approval_terms,
    asked_for,
    check_business_need,
    check_decision_step,
    check_ends_no_later_than_asked,
    check_level_no_more_than_asked,
    check_may_decide,
    check_not_confirmer,
    check_not_own_request,
    check_paths_within_asked,
    check_refusal_reason,
    check_transition,
    check_withdrawer,
    route_request,
)
from core.rules.reviews import (
    UNREVIEWED_MODES,
    CampaignState,
    ReviewDecision,
    check_due_date,
    check_may_answer,
    check_may_review,
    check_review_lowers,
    in_review_scope,
)

__all__ = [
    "ALLOWED",
    "MIN_BUSINESS_NEED",
    "OPEN",
    "TRANSITIONS",
    "UNREVIEWED_MODES",
    "CampaignState",
    "Decision",
    "EndedByLeaving",
    "Held",
    "Person",
    "Request",
    "ReviewDecision",
    "SourceAccess",
    "admin_through_team",
    "approval_terms",
    "asked_for",
    "can_see_source",
    "check_access_may_change",
    "check_business_need",
    "check_can_read",
    "check_can_write",
    "check_classification",
    "check_decision_step",
    "check_download_signed",
    "check_due_date",
    "check_end_date",
    "check_ends_no_later_than_asked",
    "check_iao_not_first",
    "check_keeps_an_admin",
    "check_level_no_more_than_asked",
    "check_level_writes",
    "check_manages_source",
    "check_may_act_as_iao",
    "check_may_administer",
    "check_may_answer",
    "check_may_be_iao",
    "check_may_decide",
    "check_may_hold",
    "check_may_own_sources",
    "check_may_review",
    "check_may_sign_off",
    "check_may_sign_report",
    "check_no_overlap",
    "check_not_confirmer",
    "check_not_left",
    "check_not_own_request",
    "check_paths_within_asked",
    "check_platform_admin",
    "check_refusal_reason",
    "check_review_lowers",
    "check_source_quota",
    "check_terms",
    "check_transition",
    "check_withdrawer",
    "covers",
    "covers_held",
    "ended_by_leaving",
    "iao_may_decide",
    "in_review_scope",
    "is_active",
    "is_live",
    "is_stale",
    "latest_end",
    "leaves_source",
    "needs_iao",
    "place_grant",
    "prefixes",
    "route_request",
    "rules_in_words",
    "signs_off",
]
