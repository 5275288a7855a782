"""Forms that mirror the AWS console: a model (plain Python) and a view (ipywidgets)."""
from .base import Field, FormModel, FormView, Problem, SubmitResult

__all__ = ["Field", "FormModel", "FormView", "Problem", "SubmitResult"]
