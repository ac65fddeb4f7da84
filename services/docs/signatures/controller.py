"""HTTP API of signatures: signing credentials (each person enrols their own certificate, the
agency's admin enrols the agency's seal; nobody ever reads a key back), and the validation
reports stored with a document's files."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from services.common.auth.guards import requires_agency, requires_role, tenant_of
from services.common.auth.principal import Principal, Role
from services.common.problems import InvalidInput
from services.docs.incoming.service import Directory, IncomingService
from services.docs.outgoing.agencies import Agencies
from services.docs.outgoing.service import OutgoingService
from services.docs.signatures import credentials
from services.docs.signatures.credentials import CredentialStore, CredentialView
from services.docs.signatures.reports import SignatureReports
from services.docs.signatures.schemas import StoredReport
from services.docs.signatures.targets import incoming_target, outgoing_target

Image = Annotated[bytes, msgspec.Meta(min_length=8, max_length=credentials.MAX_IMAGE_BYTES)]


class EnrolRequest(msgspec.Struct, kw_only=True):
    """Either a PKCS#12 the server will hold (opened with `pin`, its passphrase), or only the
    certificate (PEM, the CAs above it may follow) of a key that signs elsewhere."""

    pkcs12: Annotated[bytes, msgspec.Meta(max_length=64 << 10)] | None = None
    pin: Annotated[str, msgspec.Meta(min_length=4, max_length=64)] | None = None
    certificate: Annotated[str, msgspec.Meta(max_length=64 << 10)] | None = None
    # The handwritten signature (blue, transparent PNG) or the agency's seal (red).
    image_png: Image
    initials_png: Image | None = None
    position: Annotated[str, msgspec.Meta(max_length=200)] = ""


class SigningCredentials:
    def __init__(self, store: CredentialStore, directory: Directory, agencies: Agencies) -> None:
        self.store = store
        self.directory = directory
        self.agencies = agencies

    async def enrol(
        self,
        tenant_id: uuid.UUID,
        principal: Principal,
        owner_kind: str,
        body: EnrolRequest,
    ) -> CredentialView:
        if owner_kind == credentials.AGENCY:
            agency = await self.agencies.by_id(tenant_id)
            name = agency.name if agency else str(tenant_id)
            owner = ""
        else:
            member = await self.directory.member(tenant_id, principal.username)
            name = member.name if member else (principal.name or principal.username)
            owner = principal.username
        if body.pkcs12 is not None and body.pin is not None and body.certificate is None:
            made = await self.store.enroll_pkcs12(
                tenant_id,
                owner_kind=owner_kind,
                owner=owner,
                display_name=name,
                position=body.position,
                pkcs12=body.pkcs12,
                pin=body.pin,
                image_png=body.image_png,
                initials_png=body.initials_png,
                created_by=principal.username,
            )
        elif body.certificate is not None and body.pkcs12 is None:
            made = await self.store.enroll_certificate(
                tenant_id,
                owner_kind=owner_kind,
                owner=owner,
                display_name=name,
                position=body.position,
                certificates=body.certificate.encode(),
                image_png=body.image_png,
                initials_png=body.initials_png,
                created_by=principal.username,
            )
        else:
            raise InvalidInput(
                "Gửi tệp PKCS#12 kèm mã PIN, hoặc chỉ chứng thư số (PEM) của thiết bị ký số.",
                "Send a PKCS#12 with its PIN, or only the certificate of a signing device.",
            )
        return credentials.view(made)

    async def listed(self, tenant_id: uuid.UUID) -> list[CredentialView]:
        async with self.store.db.transaction(tenant_id, read_only=True) as conn:
            return [credentials.view(c) for c in await credentials.listed(conn, tenant_id)]


class CredentialController(Controller):
    path = "/api/v1/signing/credentials"
    tags = ("signing",)

    @get("", guards=[requires_agency], summary="Chứng thư số đang dùng để ký trong cơ quan")
    async def listed(
        self,
        signing_credentials: NamedDependency[SigningCredentials],
        request: Request[Principal, Any, Any],
    ) -> list[CredentialView]:
        tenant_id = tenant_of(request)
        return await signing_credentials.listed(tenant_id)

    @put("/me", guards=[requires_agency], summary="Đăng ký chứng thư số của tôi để ký")
    async def enrol_mine(
        self,
        request: Request[Principal, Any, Any],
        signing_credentials: NamedDependency[SigningCredentials],
        data: JSONBody[EnrolRequest],
    ) -> CredentialView:
        tenant_id = tenant_of(request)
        return await signing_credentials.enrol(tenant_id, request.user, credentials.PERSON, data)

    @put(
        "/agency",
        guards=[requires_role(Role.AGENCY_ADMIN)],
        summary="Đăng ký chứng thư số của cơ quan (con dấu điện tử, quản trị cơ quan)",
    )
    async def enrol_agency(
        self,
        request: Request[Principal, Any, Any],
        signing_credentials: NamedDependency[SigningCredentials],
        data: JSONBody[EnrolRequest],
    ) -> CredentialView:
        tenant_id = tenant_of(request)
        return await signing_credentials.enrol(tenant_id, request.user, credentials.AGENCY, data)


INCOMING_FILE = "/incoming/{document_id:uuid}/files/{object_id:uuid}/signatures"
OUTGOING_FILE = "/outgoing/{outgoing_id:uuid}/files/{object_id:uuid}/signatures"


class SignatureReportController(Controller):
    """A document's file and its stored validation report. The card decides first whether the
    caller sees the document at all (another agency's is not found), then whether it lists
    the file."""

    path = "/api/v1"
    tags = ("signing",)
    guards = (requires_agency,)

    @get(INCOMING_FILE, summary="Báo cáo kiểm tra chữ ký số đã lưu của tệp văn bản đến")
    async def incoming_report(
        self,
        request: Request[Principal, Any, Any],
        incoming: NamedDependency[IncomingService],
        signature_reports: NamedDependency[SignatureReports],
        document_id: FromPath[uuid.UUID],
        object_id: FromPath[uuid.UUID],
    ) -> StoredReport:
        tenant_id = tenant_of(request)
        _, found = await incoming_target(incoming, tenant_id, request.user, document_id, object_id)
        return await signature_reports.report(tenant_id, found)

    @post(
        INCOMING_FILE,
        status_code=HTTP_200_OK,
        summary="Kiểm tra lại chữ ký số của tệp văn bản đến, lưu báo cáo mới",
    )
    async def check_incoming(
        self,
        request: Request[Principal, Any, Any],
        incoming: NamedDependency[IncomingService],
        signature_reports: NamedDependency[SignatureReports],
        document_id: FromPath[uuid.UUID],
        object_id: FromPath[uuid.UUID],
    ) -> StoredReport:
        tenant_id = tenant_of(request)
        target, found = await incoming_target(
            incoming, tenant_id, request.user, document_id, object_id
        )
        return await signature_reports.check(tenant_id, request.user, target, found, again=True)

    @get(OUTGOING_FILE, summary="Báo cáo kiểm tra chữ ký số đã lưu của tệp văn bản đi")
    async def outgoing_report(
        self,
        outgoing: NamedDependency[OutgoingService],
        signature_reports: NamedDependency[SignatureReports],
        request: Request[Principal, Any, Any],
        outgoing_id: FromPath[uuid.UUID],
        object_id: FromPath[uuid.UUID],
    ) -> StoredReport:
        tenant_id = tenant_of(request)
        _, found = await outgoing_target(outgoing, tenant_id, outgoing_id, object_id)
        return await signature_reports.report(tenant_id, found)

    @post(
        OUTGOING_FILE,
        status_code=HTTP_200_OK,
        summary="Kiểm tra lại chữ ký số của tệp văn bản đi, lưu báo cáo mới",
    )
    async def check_outgoing(
        self,
        request: Request[Principal, Any, Any],
        outgoing: NamedDependency[OutgoingService],
        signature_reports: NamedDependency[SignatureReports],
        outgoing_id: FromPath[uuid.UUID],
        object_id: FromPath[uuid.UUID],
    ) -> StoredReport:
        tenant_id = tenant_of(request)
        target, found = await outgoing_target(outgoing, tenant_id, outgoing_id, object_id)
        return await signature_reports.check(tenant_id, request.user, target, found, again=True)
