"""Tooling around the infrastructure, not part of it: the jsii runtime set-up, the `tap` command,
the compliance gate and its rules, the PCI report, the diagrams, and static proofs over the
synthesized JSON (pinned stateful addresses, name collisions)."""


class CouldNotRun(RuntimeError):
    """A step cannot run here (a missing tool); the message says what to install or do."""
