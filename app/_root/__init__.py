"""Gezonde Stad: health in spatial planning for Flemish cities.

The repository keeps one folder per floor (``model/``, ``layers/``, ``spatial/``, ``screening/``,
``app/``); installed, they are the subpackages ``gezondestad.model`` ... ``gezondestad.app``.
"""

__version__ = "0.2.0"
