"""Outside local mode only the Teams channel's tokens get in, checked as botbuilder's channel path checks them.

botbuilder chooses a check by what a token says about itself. A token that Entra ID's Bot Framework tenant
issued goes down its "emulator" branch, which checks only that the token's `appid` is this bot: neither its
audience nor the service URL. Anyone holding such a token (the bot's own outbound token is one) could then
send any identity and any `serviceUrl`, and the bot would POST its bearer token there. Teams never sends
those tokens, so here there is one path, the channel's: issuer api.botframework.com, the signature by a key
from the channel's OpenID metadata (through our key cache, bot/openid.py) endorsed for the activity's
channel, the audience this bot's app id, and a `serviceurl` claim equal to the activity's `serviceUrl`.
"""

from __future__ import annotations

from botframework.connector.auth import (
    AuthenticationConstants, ChannelValidation, ClaimsIdentity, JwtTokenExtractor, SimpleCredentialProvider, VerifyOptions,
)


class ChannelTokens:
    def __init__(self, app_id: str, metadata_url: str) -> None:
        self._app = SimpleCredentialProvider(app_id, "")
        self._metadata_url = metadata_url

    async def check(self, authorization: str, service_url: str | None, channel_id: str | None) -> ClaimsIdentity:
        """The token's claims; raises (PermissionError, or the JWT library's errors) for anything else."""
        if not authorization:
            raise PermissionError("no Authorization header")
        options = VerifyOptions(issuer=[AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER], audience=None,
                                clock_tolerance=5 * 60, ignore_expiration=False)
        extractor = JwtTokenExtractor(options, self._metadata_url, AuthenticationConstants.ALLOWED_SIGNING_ALGORITHMS)
        identity = await extractor.get_identity_from_auth_header(authorization, channel_id or "", [])
        # The SDK's own check of a channel identity: authenticated, the channel's issuer, audience = this bot.
        identity = await ChannelValidation.validate_identity(identity, self._app)
        if not service_url or identity.get_claim_value(AuthenticationConstants.SERVICE_URL_CLAIM) != service_url:
            raise PermissionError("the token's serviceurl claim does not match the activity's serviceUrl")
        return identity
