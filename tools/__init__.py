"""Tooling around the infrastructure, not part of it: the jsii runtime set-up, the Checkov gate,
and static proofs over the synthesized JSON (reachability, pinned stateful addresses, name collisions)."""
