"""Stand-in for ``openapi-spec-validator`` in the lab's offline JupyterLite build
(tools/lite_stubs).

moto's API Gateway imports it at load time; the real package needs compiled ones (``rpds-py``
through ``jsonschema``, ``pydantic-core`` through ``pydantic-settings``) that come from Pyodide's
distribution, which the offline build does not have. Only importing an OpenAPI definition
(``ImportRestApi``, ``PutRestApi``) calls it, and that then fails.
"""


def validate(*args, **kwargs):
    raise NotImplementedError(
        "openapi-spec-validator is a stand-in in this offline build of the lab "
        "(tools/lite_stubs): OpenAPI definitions cannot be imported here"
    )
