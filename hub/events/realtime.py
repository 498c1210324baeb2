"""The real-time parts of one hub process, wired together once and run with the app."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.authz.policy import PolicyStore
from hub.db import session_factory
from hub.events.bus import EventBus, bus_from_settings
from hub.events.expiry import PledgeWarner
from hub.events.fanout import Fanout
from hub.events.outbox import attach
from hub.events.webhooks import WebhookWorker
from hub.settings import Settings


@dataclass(frozen=True, slots=True)
class Realtime:
    """The bus, the subscriptions' fan-out, the webhook worker and the pledge warner."""

    bus: EventBus
    fanout: Fanout
    webhooks: WebhookWorker
    warner: PledgeWarner

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        policies: PolicyStore,
    ) -> Realtime:
        """Wire the parts; `sessions` (the requests') publish their events after commit."""
        events = settings.events
        bus = bus_from_settings(settings)
        attach(sessions, bus)
        writer = session_factory(engine, write=True)
        attach(writer, bus)
        return cls(
            bus=bus,
            fanout=Fanout(bus, sessions, policies),
            webhooks=WebhookWorker(
                writer,
                policies,
                events,
                production=settings.is_production,
                postgres=make_url(settings.database_url).get_backend_name() == "postgresql",
                bus=bus,
                reads=sessions,
            ),
            warner=PledgeWarner(
                writer,
                ahead=dt.timedelta(hours=events.pledge_warning_hours),
                interval=events.pledge_warning_check_seconds,
            ),
        )

    def attached(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> async_sessionmaker[AsyncSession]:
        """`sessions`, made to publish their events on this process's bus after commit."""
        attach(sessions, self.bus)
        return sessions

    async def start(self) -> None:
        """Connect the bus, then start hearing it and working."""
        await self.bus.start()
        self.fanout.start()
        self.webhooks.start()
        self.warner.start()

    async def stop(self) -> None:
        """Stop working, then disconnect."""
        await self.warner.stop()
        await self.webhooks.stop()
        await self.fanout.stop()
        await self.bus.close()
