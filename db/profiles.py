"""Saved skill profiles: saving, reading, recording feedback, and forgetting a person entirely."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.digest_models import Delivery, DeliveryKind, Subscription
from db.engine import session_factory, transaction
from db.profile_models import ProfileSkill, SkillProfile
from db.resolve import Candidate
from db.workspace_models import WorkspaceSettings

# A profile is a short list; anything longer is someone pasting a CV.
MAX_PROFILE_SKILLS = 60


@dataclass(frozen=True)
class SavedProfile:
    """One person's saved skills, as plain values."""

    team_id: str
    user_id: str
    skills: tuple[Candidate, ...]
    role_slug: str | None
    weekly_updates: bool
    last_feedback: dict[str, Any]
    last_checked_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class Forgotten:
    """How many rows about the person were deleted, table by table."""

    profiles: int = 0
    profile_skills: int = 0
    subscriptions: int = 0
    deliveries: int = 0
    # Settings they changed and channel digests they set up stay; only the note of who did
    # it goes.
    references: int = 0

    @property
    def total(self) -> int:
        return (
            self.profiles
            + self.profile_skills
            + self.subscriptions
            + self.deliveries
            + self.references
        )


async def load_profile(engine: AsyncEngine, team_id: str, user_id: str) -> SavedProfile | None:
    async with session_factory(engine)() as session:
        profile = await _profile_row(session, team_id, user_id)
        if profile is None:
            return None
        return await _saved(session, profile)


async def save_profile(
    engine: AsyncEngine,
    team_id: str,
    user_id: str,
    skills: Sequence[Candidate],
    role_slug: str | None,
    *,
    feedback: dict[str, Any] | None = None,
) -> SavedProfile:
    """Store (or replace) the person's skills and target role; they asked for it."""
    now = datetime.now(UTC)
    unique = list({c.slug: c for c in skills}.values())[:MAX_PROFILE_SKILLS]
    async with transaction(engine) as session:
        profile = await _profile_row(session, team_id, user_id, for_update=True)
        if profile is None:
            profile = SkillProfile(team_id=team_id, user_id=user_id, created_at=now, updated_at=now)
            session.add(profile)
            await session.flush()
        assert profile.id is not None
        await session.execute(
            delete(ProfileSkill).where(col(ProfileSkill.profile_id) == profile.id)
        )
        for position, candidate in enumerate(unique):
            session.add(
                ProfileSkill(
                    profile_id=profile.id,
                    skill_slug=candidate.slug,
                    skill_name=candidate.name[:200],
                    position=position,
                )
            )
        profile.role_slug = role_slug
        profile.updated_at = now
        if feedback is not None:
            profile.last_feedback = json.dumps(feedback, ensure_ascii=False)
            profile.last_checked_at = now
        session.add(profile)
        await session.flush()
        return await _saved(session, profile)


async def record_feedback(
    engine: AsyncEngine, team_id: str, user_id: str, feedback: dict[str, Any]
) -> bool:
    """Keep the latest feedback for the Home tab, only for people who saved a profile."""
    async with transaction(engine) as session:
        profile = await _profile_row(session, team_id, user_id, for_update=True)
        if profile is None:
            return False
        profile.last_feedback = json.dumps(feedback, ensure_ascii=False)
        profile.last_checked_at = datetime.now(UTC)
        session.add(profile)
        return True


async def set_weekly_updates(engine: AsyncEngine, team_id: str, user_id: str, on: bool) -> bool:
    """Record the weekly-DM choice on the profile; False when there is no profile."""
    async with transaction(engine) as session:
        profile = await _profile_row(session, team_id, user_id, for_update=True)
        if profile is None:
            return False
        profile.weekly_updates = on
        profile.updated_at = datetime.now(UTC)
        session.add(profile)
        return True


def _profiles_of(team_id: str, user_id: str) -> tuple[Any, ...]:
    return (col(SkillProfile.team_id) == team_id, col(SkillProfile.user_id) == user_id)


def _personal_subscriptions_of(team_id: str, user_id: str) -> tuple[Any, ...]:
    return (
        col(Subscription.kind) == DeliveryKind.PERSONAL_CHECK,
        col(Subscription.team_id) == team_id,
        col(Subscription.target) == user_id,
    )


def _personal_deliveries_of(team_id: str, user_id: str) -> tuple[Any, ...]:
    return (
        col(Delivery.kind) == DeliveryKind.PERSONAL_CHECK,
        col(Delivery.team_id) == team_id,
        col(Delivery.target) == user_id,
    )


async def forget_person(engine: AsyncEngine, team_id: str, user_id: str) -> Forgotten:
    """Delete every row about this person in this workspace, in one transaction."""
    async with transaction(engine) as session:
        profile_ids = list(
            await session.exec(select(SkillProfile.id).where(*_profiles_of(team_id, user_id)))
        )
        skills = await session.execute(
            delete(ProfileSkill).where(col(ProfileSkill.profile_id).in_(profile_ids))
        )
        profiles = await session.execute(
            delete(SkillProfile).where(col(SkillProfile.id).in_(profile_ids))
        )
        # Their personal DMs: the subscription and every delivery of it, pending or sent.
        deliveries = await session.execute(
            delete(Delivery).where(*_personal_deliveries_of(team_id, user_id))
        )
        subscriptions = await session.execute(
            delete(Subscription).where(*_personal_subscriptions_of(team_id, user_id))
        )
        settings_changed = await session.execute(
            update(WorkspaceSettings)
            .where(
                col(WorkspaceSettings.team_id) == team_id,
                col(WorkspaceSettings.updated_by) == user_id,
            )
            .values(updated_by="")
        )
        # Channel digests they set up belong to the channel and keep running, but no longer
        # name them (nobody is DMed if such a digest gets paused).
        digests_set_up = await session.execute(
            update(Subscription)
            .where(
                col(Subscription.kind) == DeliveryKind.CHANNEL_DIGEST,
                col(Subscription.team_id) == team_id,
                col(Subscription.subscriber_user_id) == user_id,
            )
            .values(subscriber_user_id="")
        )
    return Forgotten(
        profiles=_count(profiles),
        profile_skills=_count(skills),
        subscriptions=_count(subscriptions),
        deliveries=_count(deliveries),
        references=_count(settings_changed) + _count(digests_set_up),
    )


async def rows_about(engine: AsyncEngine, team_id: str, user_id: str) -> int:
    """How many rows of personal data the store holds about this person (0 after forget)."""
    async with session_factory(engine)() as session:
        profiles = list(
            await session.exec(select(SkillProfile.id).where(*_profiles_of(team_id, user_id)))
        )
        skills = (
            await session.exec(
                select(ProfileSkill.id).where(col(ProfileSkill.profile_id).in_(profiles))
            )
        ).all()
        subscriptions = (
            await session.exec(
                select(Subscription.id).where(*_personal_subscriptions_of(team_id, user_id))
            )
        ).all()
        deliveries = (
            await session.exec(
                select(Delivery.id).where(*_personal_deliveries_of(team_id, user_id))
            )
        ).all()
    return len(profiles) + len(skills) + len(subscriptions) + len(deliveries)


async def profiles_with_weekly_updates(engine: AsyncEngine) -> list[SavedProfile]:
    async with session_factory(engine)() as session:
        rows = (
            await session.exec(select(SkillProfile).where(col(SkillProfile.weekly_updates)))
        ).all()
        return [await _saved(session, row) for row in rows]


def _count(result: Any) -> int:
    return max(int(getattr(result, "rowcount", 0) or 0), 0)


async def _profile_row(
    session: AsyncSession, team_id: str, user_id: str, *, for_update: bool = False
) -> SkillProfile | None:
    query = select(SkillProfile).where(
        SkillProfile.team_id == team_id, SkillProfile.user_id == user_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def _saved(session: AsyncSession, profile: SkillProfile) -> SavedProfile:
    skills = (
        await session.exec(
            select(ProfileSkill)
            .where(ProfileSkill.profile_id == profile.id)
            .order_by(col(ProfileSkill.position))
        )
    ).all()
    try:
        feedback = json.loads(profile.last_feedback) if profile.last_feedback else {}
    except ValueError:
        feedback = {}
    return SavedProfile(
        team_id=profile.team_id,
        user_id=profile.user_id,
        skills=tuple(Candidate(s.skill_slug, s.skill_name) for s in skills),
        role_slug=profile.role_slug,
        weekly_updates=profile.weekly_updates,
        last_feedback=feedback if isinstance(feedback, dict) else {},
        last_checked_at=profile.last_checked_at,
        updated_at=profile.updated_at,
    )
