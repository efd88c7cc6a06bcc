"""What inspect-ai loads through the ``inspect_ai`` entry point: the ``deploysim`` sandbox.

Importing this module registers deploysim's extensions with inspect; nothing else imports it.
"""

from deploysim.sandbox._inspect import DeploysimSandbox

__all__ = ["DeploysimSandbox"]
