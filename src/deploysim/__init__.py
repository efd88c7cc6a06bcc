"""deploysim: forecast how a candidate model behaves as a deployed agent.

Importing this package is cheap: it does not import docker, fastapi or inspect_ai; those load
at the boundary that needs them.
"""

from deploysim._errors import DeploysimError

__version__ = "0.1.0"

__all__ = ["DeploysimError", "__version__"]
