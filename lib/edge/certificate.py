"""The edge's TLS certificate: an existing one, or an ACM certificate validated through DNS.

The listeners take `SiteCertificate.arn` from the validation resource, so Terraform creates them
only once ACM has issued the certificate. With no domain configured a certificate is still
requested, for a placeholder name under example.com that cannot validate; `make synth` warns
about it (`placeholder`). TAP never falls back to a self-signed certificate at the edge.
"""

from __future__ import annotations

from cdktn import TerraformResourceLifecycle
from cdktn_provider_aws.acm_certificate import AcmCertificate, AcmCertificateOptions
from cdktn_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktn_provider_aws.route53_record import Route53Record
from cdktn_provider_aws.route53_zone import Route53Zone
from constructs import Construct

from lib.config import EdgeConfig
from lib.core.context import StackContext

PLACEHOLDER_PARENT = "example.com"
VALIDATION_RECORD_TTL = 300


def site_domain(edge: EdgeConfig, prefix: str, suffix: str) -> str:
    """The configured domain, or the placeholder that `make synth` warns about."""
    return edge.domain_name or f"{prefix}-{suffix}.{PLACEHOLDER_PARENT}"


class SiteCertificate(Construct):
    """`arn` is the validated certificate; `zone_id` the hosted zone records go into, if any."""

    def __init__(self, scope: Construct, construct_id: str, context: StackContext, edge: EdgeConfig) -> None:
        super().__init__(scope, construct_id)
        self.domain_name = site_domain(edge, context.names.prefix, context.names.suffix)
        self.placeholder = edge.domain_name is None
        self.zone_id: str | None = edge.hosted_zone_id
        # The DNS record ACM waits for, when TAP cannot create it (no zone): exported for whoever hosts it.
        self.pending_validation: object | None = None
        if edge.hosted_zone_id == "create":
            zone = Route53Zone(self, "zone", name=self.domain_name, comment=f"TAP {context.names.suffix}")
            self.zone_id = zone.zone_id
        if edge.certificate_arn is not None:
            self.arn = edge.certificate_arn
            return
        certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=self.domain_name,
            validation_method="DNS",
            options=AcmCertificateOptions(certificate_transparency_logging_preference="ENABLED"),
            tags={"Name": self.domain_name},
            # A renamed domain gets its new certificate before listeners let go of the old one.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        fqdns: list[str] | None = None
        if self.zone_id is not None:
            # One name, so one validation record: a fixed address instead of a for_each.
            option = certificate.domain_validation_options.get(0)
            record = Route53Record(
                self,
                "validation_record",
                zone_id=self.zone_id,
                name=option.resource_record_name,
                type=option.resource_record_type,
                records=[option.resource_record_value],
                ttl=VALIDATION_RECORD_TTL,
                allow_overwrite=True,
            )
            fqdns = [record.fqdn]
        # Without a zone, validation waits for the record to be created where the domain is hosted.
        self.validation = AcmCertificateValidation(
            self, "validation", certificate_arn=certificate.arn, validation_record_fqdns=fqdns
        )
        if fqdns is None:
            self.pending_validation = certificate.domain_validation_options
        self.arn = self.validation.certificate_arn
