"""TAP: PCI-DSS payment platform infrastructure, defined with CDK Terrain.

Importing any module of this package first points jsii at the wheel's Node.js and the lazy
provider index (see `jsii_runtime`), so no entry point can start jsii on a system Node.
"""

from lib import jsii_runtime

jsii_runtime.configure()
jsii_runtime.memoize_attribute_references()
