"""What Gatehouse's SCIM service keeps of a user and says it supports (RFC 7643 §5-7): the schemas /Schemas
publishes are made from these models, so a client (scim2-tester among them) reads exactly what it may send and
will read back. Incoming payloads are read with scim2-models' full User, more leniently (core/service/scim.py)."""

from typing import Annotated

import email_validator
from pydantic import EmailStr, Field
from scim2_models import (
    AnyExtension,
    AuthenticationScheme,
    Bulk,
    CaseExact,
    ChangePassword,
    ComplexAttribute,
    EnterpriseUser,
    ETag,
    Extension,
    Filter,
    Group,
    Meta,
    Mutability,
    Patch,
    Reference,
    Required,
    Resource,
    ResourceType,
    Schema,
    ServiceProviderConfig,
    Sort,
    Uniqueness,
    User,
)

MEMBER, GUEST = "Member", "Guest"  # userType: Entra ID's external users are its guests
MAX_RESULTS = 200  # a page of users at most; the identity provider asks for the next with startIndex

# Identity providers' test tenants use the reserved domain names (alice@contoso.local, bob@example.test), which
# email_validator (under pydantic's EmailStr, so scim2-models' User) refuses: an address is judged by Gatehouse's one
# rule for addresses instead (domain.validate_email), as one typed on the Platform page is. Only SCIM reads EmailStr.
email_validator.SPECIAL_USE_DOMAIN_NAMES = []


class KeptEmail(ComplexAttribute):
    value: Annotated[EmailStr | None, Required.true] = None
    """The member's email address: where Gatehouse's messages go."""


class KeptUser(Resource[AnyExtension]):
    """A platform member, as the identity provider provisions them."""

    __schema__ = User.__schema__

    # A member's IAM role is named after their username: it is set once, at creation.
    user_name: Annotated[str | None, Uniqueness.server, Required.true, Mutability.immutable] = None
    # Every member has these three, whatever a request leaves out: their name as shown (their username if none is
    # given; Gatehouse keeps one name, which `name`'s parts make when no displayName comes), whether they are from
    # outside the organisation ("Guest") or not ("Member"), and whether they may use Gatehouse (false: a leaver).
    display_name: Annotated[str | None, Required.true] = None
    user_type: Annotated[str | None, Required.true] = Field(None, examples=[MEMBER, GUEST])
    active: Annotated[bool | None, Required.true] = None
    emails: Annotated[list[KeptEmail] | None, Required.true] = None  # every member has an email address


class KeptManager(ComplexAttribute):
    value: Annotated[str | None, Required.true, CaseExact.true] = None
    """The id of the member's line manager."""

    ref: Annotated[Reference[User] | None, Required.true] = Field(  # type: ignore[type-arg]
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    """The address of the member's line manager."""


class KeptEnterprise(Extension):
    __schema__ = EnterpriseUser.__schema__

    manager: KeptManager | None = None
    """The member's line manager: who confirms their requests for orphaned sources."""


KeptMember = KeptUser[KeptEnterprise]


class KeptGroupMember(ComplexAttribute):
    value: Annotated[str | None, Mutability.immutable, Required.true, CaseExact.true] = None
    """The id of a member of the team (teams hold people, not other teams)."""

    ref: Annotated[Reference[User] | None, Mutability.immutable] = Field(  # type: ignore[type-arg]
        None, serialization_alias="$ref", validation_alias="$ref"
    )


class KeptGroup(Resource[AnyExtension]):
    """A team: the identity provider's group of the same name."""

    __schema__ = Group.__schema__

    display_name: Annotated[str | None, Required.true, Uniqueness.server] = None
    members: list[KeptGroupMember] | None = None


def config(base: str) -> ServiceProviderConfig:
    return ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[
            AuthenticationScheme(
                type="oauthbearertoken",
                name="Bearer token",
                description="A token the platform team makes with `gatehouse scim token create NAME`.",
                primary=True,
            )
        ],
        meta=Meta(resource_type="ServiceProviderConfig", location=f"{base}/ServiceProviderConfig"),
    )


def resource_types(base: str) -> list[ResourceType]:
    found = [ResourceType.from_resource(KeptMember), ResourceType.from_resource(KeptGroup)]
    for one in found:
        one.meta = Meta(resource_type="ResourceType", location=f"{base}/ResourceTypes/{one.id}")
    return found


def schemas(base: str) -> list[Schema]:
    found = [KeptUser.to_schema(), KeptEnterprise.to_schema(), KeptGroup.to_schema()]
    for one, name in zip(found, ("User", "EnterpriseUser", "Group"), strict=True):
        one.name = name
        one.meta = Meta(resource_type="Schema", location=f"{base}/Schemas/{one.id}")
    return found
