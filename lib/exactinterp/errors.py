"""Every exception the package raises on purpose, in one place (a leaf module: it imports nothing).

``InputError`` and its subclasses mean *bad input* (the CLI exits with code 2); ``ConstructionError``
means a valid dataset that this construction does not serve (its message says "not supported by
this construction", never "impossible").
"""

__all__ = ["NumberError", "InputError", "DatasetError", "LayerError", "ModelError", "ConstructionError"]


class NumberError(ValueError):
    """A value that is not an exact rational number (or is absurdly large)."""


class InputError(ValueError):
    """Unreadable or malformed input (file, JSON, shapes)."""


class DatasetError(InputError):
    """A dataset that no transformer of this kind can interpolate, or that is malformed."""


class LayerError(ValueError):
    """Inconsistent layer parameters (shapes, values)."""


class ModelError(ValueError):
    """A model file or model object that does not follow the model format."""


class ConstructionError(ValueError):
    """The construction cannot serve this input (says 'not supported by this construction')."""
