"""Forms that mirror the AWS console: a model (plain Python) and a view (ipywidgets)."""

from helpers.views.forms.base import Field, FormModel, FormView, Problem, SubmitResult

__all__ = ["Field", "FormModel", "FormView", "Problem", "SubmitResult"]
