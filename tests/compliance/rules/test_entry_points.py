"""TAP-WAF-2 (every internet-facing web entry point is behind a web ACL)."""

from __future__ import annotations

from tests.compliance.rules.documents import evidenced, run, violated

ASSOCIATION = {"a": {"resource_arn": "${aws_lb.alb.arn}", "web_acl_arn": "${aws_wafv2_web_acl.acl.arn}"}}


def test_protected_entry_points_pass() -> None:
    outcome = run(
        "TAP-WAF-2",
        environment={
            "aws_lb": {"alb": {"internal": False}, "inner": {"internal": True}},
            "aws_wafv2_web_acl_association": ASSOCIATION,
            "aws_cloudfront_distribution": {"cdn": {"web_acl_id": "${aws_wafv2_web_acl.cdn.arn}"}},
            "aws_apigatewayv2_api": {"api": {"protocol_type": "HTTP", "disable_execute_api_endpoint": True}},
            "aws_lambda_function_url": {"url": {"authorization_type": "AWS_IAM"}},
        },
    )
    assert outcome.passed
    assert evidenced(outcome) == {
        "aws_lb.alb",
        "aws_cloudfront_distribution.cdn",
        "aws_apigatewayv2_api.api",
        "aws_lambda_function_url.url",
    }


def test_every_unprotected_entry_point_fails() -> None:
    outcome = run(
        "TAP-WAF-2",
        environment={
            "aws_lb": {"alb": {"internal": False}, "nlb": {"load_balancer_type": "network"}},
            "aws_cloudfront_distribution": {"cdn": {}},
            "aws_apigatewayv2_api": {"api": {"protocol_type": "HTTP"}},
            "aws_lambda_function_url": {"url": {"authorization_type": "NONE"}},
        },
    )
    assert violated(outcome) == [
        "aws_lb.alb",
        "aws_cloudfront_distribution.cdn",
        "aws_apigatewayv2_api.api",
        "aws_lambda_function_url.url",
    ]
    assert "execute-api" in outcome.violations[2].message


def test_an_association_with_another_load_balancer_does_not_count() -> None:
    outcome = run(
        "TAP-WAF-2",
        environment={
            "aws_lb": {"alb": {"internal": False}, "other": {"internal": False}},
            "aws_wafv2_web_acl_association": ASSOCIATION,
        },
    )
    assert violated(outcome) == ["aws_lb.other"]


def test_internal_load_balancers_alone_are_not_applicable() -> None:
    assert run("TAP-WAF-2", environment={"aws_lb": {"inner": {"internal": True}}}).not_applicable
