"""Contracts between the infrastructure and the Lambda code: one dependency-free module per contract.

The stack imports them to set environments, patterns and alarms; the handlers import them (the
module is packaged into each zip under the same import path) to read exactly what is set.
"""
