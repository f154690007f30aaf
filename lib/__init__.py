"""TAP: PCI-DSS payment platform infrastructure, defined with CDK Terrain.

Importing this package has no side effects. Entry points prepare the jsii runtime explicitly
(`tools.jsii_runtime.prepare()`) before they build a stack.
"""
