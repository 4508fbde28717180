"""caring-societies: welfare, health and care indicators for ASEAN and Plus Three.

The public API used by the notebooks is re-exported here; see ``analysis.api``.
"""

__version__ = "0.1.0"
