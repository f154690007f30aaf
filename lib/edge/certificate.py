"""The edge's TLS certificates: existing ones, or ACM certificates validated through DNS.

Listeners and the distribution take `SiteCertificate.arn` from the validation resource, so
Terraform creates them only once ACM has issued the certificate. With no domain configured a
certificate is still requested, for a placeholder name under example.com that cannot validate;
`make synth` warns about it. TAP never falls back to a self-signed certificate at the edge.

CloudFront's certificate lives in us-east-1 (through an aliased provider). ACM asks for the same
validation record for one name in every region of an account, so the second certificate waits
on the record the first one wrote instead of writing it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktn import TerraformProvider, TerraformResourceLifecycle
from cdktn_provider_aws.acm_certificate import AcmCertificate, AcmCertificateOptions
from cdktn_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktn_provider_aws.route53_record import Route53Record
from constructs import Construct

from lib.config import EdgeConfig

PLACEHOLDER_PARENT = "example.com"
VALIDATION_RECORD_TTL = 300


def site_domain(edge: EdgeConfig, prefix: str, suffix: str) -> str:
    """The configured domain, or the placeholder that `make synth` warns about."""
    return edge.domain_name or f"{prefix}-{suffix}.{PLACEHOLDER_PARENT}"


@dataclass(frozen=True, kw_only=True)
class CertificateProps:
    domain_name: str
    # The hosted zone the validation record goes into; None: whoever hosts the domain writes it.
    zone_id: str | None
    # A certificate that already exists (nothing is requested then).
    existing_arn: str | None = None
    # An aliased provider for another region (CloudFront's us-east-1); None: the stack's region.
    provider: TerraformProvider | None = None
    # The validation record another certificate for the same name already wrote.
    validation_record_fqdns: Sequence[str] | None = None


class SiteCertificate(Construct):
    """`arn` is the validated certificate; `validation_record_fqdns` what a twin certificate waits on."""

    def __init__(self, scope: Construct, construct_id: str, props: CertificateProps) -> None:
        super().__init__(scope, construct_id)
        self.domain_name = props.domain_name
        # The DNS record ACM waits for, when TAP cannot create it (no zone): exported for whoever hosts it.
        self.pending_validation: object | None = None
        self.validation_record_fqdns: Sequence[str] | None = props.validation_record_fqdns
        if props.existing_arn is not None:
            self.arn = props.existing_arn
            return
        certificate = AcmCertificate(
            self,
            "certificate",
            provider=props.provider,
            domain_name=self.domain_name,
            validation_method="DNS",
            options=AcmCertificateOptions(certificate_transparency_logging_preference="ENABLED"),
            tags={"Name": self.domain_name},
            # A renamed domain gets its new certificate before listeners let go of the old one.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        if self.validation_record_fqdns is None and props.zone_id is not None:
            # One name, so one validation record: a fixed address instead of a for_each.
            option = certificate.domain_validation_options.get(0)
            record = Route53Record(
                self,
                "validation_record",
                zone_id=props.zone_id,
                name=option.resource_record_name,
                type=option.resource_record_type,
                records=[option.resource_record_value],
                ttl=VALIDATION_RECORD_TTL,
                allow_overwrite=True,
            )
            self.validation_record_fqdns = [record.fqdn]
        # Without a zone, validation waits for the record to be created where the domain is hosted.
        self.validation = AcmCertificateValidation(
            self,
            "validation",
            provider=props.provider,
            certificate_arn=certificate.arn,
            validation_record_fqdns=list(self.validation_record_fqdns) if self.validation_record_fqdns else None,
        )
        if self.validation_record_fqdns is None:
            self.pending_validation = certificate.domain_validation_options
        self.arn = self.validation.certificate_arn
