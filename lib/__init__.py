"""TAP: PCI-DSS payment platform infrastructure, defined with CDK Terrain."""
