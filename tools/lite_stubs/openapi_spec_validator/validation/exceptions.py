"""The exception moto's API Gateway imports (tools/lite_stubs: offline build only)."""


class OpenAPIValidationError(Exception):
    pass
