"""instructrec-peft: instruction-tune small causal LMs into recommenders (InstructRec) with PEFT.

Light modules are imported here; anything that pulls in torch is imported where it is used.
"""

from . import safe_format, templates, vocabulary
from .errors import DataError, InstructRecError, TemplateError
from .interactions import ColumnMap, InteractionLog, ItemCatalog
from .split import LeaveOneOutSplit, leave_one_out
from .templates import Template, get_template, register_template

__version__ = "0.1.0"

__all__ = [
    "ColumnMap", "DataError", "InstructRecError", "InteractionLog", "ItemCatalog", "LeaveOneOutSplit",
    "Template", "TemplateError", "get_template", "leave_one_out", "register_template", "safe_format",
    "templates", "vocabulary", "__version__",
]
