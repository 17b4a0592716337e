"""Slack's refusals that no retry can fix, what each means, and what a person can do."""

from __future__ import annotations

# Slack refuses the target itself: retrying cannot help, a person has to act.
CHANNEL_GONE = {
    "channel_not_found": "the channel no longer exists or SkillGap cannot see it",
    "not_in_channel": "SkillGap is not a member of the channel",
    "is_archived": "the channel is archived",
    "user_not_found": "the person could not be found",
    "cannot_dm_bot": "the person is a bot",
    "user_disabled": "the person's account is deactivated",
}
TOKEN_GONE = {
    "token_revoked": "SkillGap's access to the workspace was revoked",
    "invalid_auth": "SkillGap's access to the workspace is no longer valid",
    "account_inactive": "SkillGap's access to the workspace was revoked",
    "not_authed": "SkillGap has no access token for the workspace",
    "team_access_not_granted": "SkillGap's access to the workspace was revoked",
    "no_token": "SkillGap is not installed in the workspace any more",
}
ADVICE = {
    "not_in_channel": "Invite SkillGap to the channel (`/invite @SkillGap`).",
    "channel_not_found": "Invite SkillGap to the channel, or subscribe another channel.",
    "is_archived": "Unarchive the channel, or subscribe another channel.",
}
DEFAULT_ADVICE = "Reinstall SkillGap in the workspace if it was removed."
