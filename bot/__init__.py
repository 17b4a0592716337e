"""SkillGap: the Slack app (app factory, settings, run modes, CLI)."""
