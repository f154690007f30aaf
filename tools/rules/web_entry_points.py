"""TAP-WAF-2: every internet-facing web entry point is behind an AWS WAF web ACL.

TAP-WAF-1 checks what the web ACLs do; this checks that each way in from the internet has one:
- an internet-facing application load balancer must be the `resource_arn` of a
  `aws_wafv2_web_acl_association`;
- a CloudFront distribution must name a `web_acl_id`;
- an HTTP API (API Gateway v2) cannot be associated with AWS WAF at all (WAF protects REST
  APIs only), so one whose default `execute-api` endpoint is enabled fails: front it with
  CloudFront and disable the endpoint, or accept it in the baseline with its compensating controls;
- a Lambda function URL fails unless it requires IAM authentication (WAF cannot front one).
Checkov checks the CloudFront case (CKV_AWS_68) and passes an internal load balancer as
protected; it never flags an HTTP API.
"""

from __future__ import annotations

from collections.abc import Iterator

from tools.rules import Evidence, Outcome, Rule, Stacks, Violation
from tools.rules._terraform import of_kind, outcome, referenced_name


def load_balancers(stacks: Stacks) -> Iterator[Evidence | Violation]:
    associated = {
        (association.stack, referenced_name(association.body.get("resource_arn"), "aws_lb"))
        for association in of_kind(stacks, "aws_wafv2_web_acl_association")
    }
    for balancer in of_kind(stacks, "aws_lb"):
        internal = balancer.body.get("internal") is True
        if internal or balancer.body.get("load_balancer_type", "application") != "application":
            continue
        if (balancer.stack, balancer.name) in associated:
            yield balancer.evidence("aws_wafv2_web_acl_association", "associated")
        else:
            yield balancer.violation("An internet-facing load balancer without a web ACL: associate one.")


def distributions(stacks: Stacks) -> Iterator[Evidence | Violation]:
    for distribution in of_kind(stacks, "aws_cloudfront_distribution"):
        web_acl = distribution.body.get("web_acl_id")
        if web_acl:
            yield distribution.evidence("web_acl_id", web_acl)
        else:
            yield distribution.violation("A distribution without a web ACL: set web_acl_id.")


def apis(stacks: Stacks) -> Iterator[Evidence | Violation]:
    for api in of_kind(stacks, "aws_apigatewayv2_api"):
        if api.body.get("disable_execute_api_endpoint") is True:
            yield api.evidence("disable_execute_api_endpoint", True)
        else:
            yield api.violation(
                f"A {api.body.get('protocol_type', 'HTTP')} API answers on its public execute-api endpoint, where "
                "AWS WAF cannot be attached: front it with CloudFront and a web ACL and disable the endpoint."
            )


def function_urls(stacks: Stacks) -> Iterator[Evidence | Violation]:
    for url in of_kind(stacks, "aws_lambda_function_url"):
        if url.body.get("authorization_type") == "AWS_IAM":
            yield url.evidence("authorization_type", "AWS_IAM")
        else:
            yield url.violation("A function URL open without IAM authentication: set AWS_IAM.")


ENTRY_POINTS = (load_balancers, distributions, apis, function_urls)


def check(stacks: Stacks) -> Outcome:
    found = [item for entry_points in ENTRY_POINTS for item in entry_points(stacks)]
    if not found:
        return Outcome(not_applicable="No internet-facing load balancer, distribution, HTTP API or function URL.")
    return outcome(
        [item for item in found if isinstance(item, Evidence)], [item for item in found if isinstance(item, Violation)]
    )


RULE = Rule(
    id="TAP-WAF-2",
    title="Every internet-facing web entry point is behind a WAF web ACL",
    requirements=("6.4.1", "6.4.2"),
    source="aws",
    basis=(
        "AWS Config PCI DSS 4.0 pack: cloudfront-associated-with-waf (Security Hub CloudFront.6) -> 6.4.1, 6.4.2; "
        "the same property for load balancers and APIs (alb-waf-enabled, api-gw-associated-with-waf carry no "
        "v4.0 id), uncovered.md row 6"
    ),
    verify_in_account=(
        "No entry point exists outside Terraform (other APIs, function URLs, public load balancers), and each "
        "association is in place (wafv2 list-resources-for-web-acl)."
    ),
    check=check,
    config_rules=("cloudfront-associated-with-waf",),
)
