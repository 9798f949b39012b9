"""In-process stand-ins for external services used by end-to-end tests."""

from tests.standin.telegram import ApiRequest, BotApiStandIn, SimUser, UploadedFile

__all__ = ["ApiRequest", "BotApiStandIn", "SimUser", "UploadedFile"]
