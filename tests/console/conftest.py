from tests.api.conftest import idle_api  # noqa: F401 - the same fixture: the API without its runtime
