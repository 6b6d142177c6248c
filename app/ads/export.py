"""TikTok's lead export, the one export client of backfills and reconciliations.

One export is one (form, region): create a task (`page/lead/task/`), poll it with backoff
(`app.core.retry.backoff_ceiling`: first after LEADS_BACKFILL_POLL_SECONDS, doubling up to
30 s, at most LEADS_BACKFILL_POLL_ATTEMPTS polls), download the file and read it
(`csv_export`). A region TikTok refuses (EU/UK and US leads only come back when asked for
by name, and an advertiser without leads there may be refused) is reported, not raised.

`export_all` runs many exports at once: at most LEADS_EXPORT_CONCURRENCY tasks in flight
per advertiser, created one after another in the order given (a predictable order, gentle
on TikTok's rate limits), and hands each export over as soon as it is read, so a caller's
progress moves as each form and region completes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from app.ads.csv_export import ExportFormatError, parse_export
from app.ads.service import AdsAccess, AdsService, AdvertiserRef
from app.core.retry import backoff_ceiling
from app.leads.parsing import ParsedLead
from app.tiktok.business_schemas import LeadForm
from app.tiktok.errors import TikTokBadRequest, TikTokError, TikTokScopeNotGranted

# None: the default region; EU/UK and US leads only come back when asked for by name.
REGIONS: tuple[str | None, ...] = (None, "eu", "us")
MAX_POLL_DELAY_SECONDS = 30.0
SUCCEEDED = "SUCCEED"
FAILED = "FAILED"


class ExportFailed(Exception):
    """An export that cannot give leads: its task failed or never finished, or its file
    is unreadable. The message says which form and region."""


@dataclass(frozen=True, slots=True)
class ExportTarget:
    advertiser: AdvertiserRef
    form: LeadForm
    region: str | None

    @property
    def advertiser_id(self) -> str:
        return self.advertiser.advertiser_id

    @property
    def form_key(self) -> str:
        return f"{self.advertiser.advertiser_id}:{self.form.page_id}"

    @property
    def key(self) -> str:
        return f"{self.form_key}:{self.region or 'default'}"

    def describe(self) -> str:
        return f"form {self.form.page_id}" + (f" (region {self.region})" if self.region else "")


def targets_of(advertiser: AdvertiserRef, forms: Sequence[LeadForm]) -> list[ExportTarget]:
    """Every (form, region) of the advertiser's forms, form by form."""
    return [ExportTarget(advertiser, form, region) for form in forms for region in REGIONS]


@dataclass(frozen=True, slots=True)
class ExportRead:
    """The leads of one export (each once), or the region TikTok refused."""

    target: ExportTarget
    leads: list[ParsedLead] = field(default_factory=list)
    # Rows that held something but could not become a lead, as "row N: why".
    skipped_rows: list[str] = field(default_factory=list)
    # The error code of a region TikTok refused (no leads then).
    refused: str | None = None


Heartbeat = Callable[[], Awaitable[None]]
Handle = Callable[[ExportRead], Awaitable[None]]
OnError = Callable[[ExportTarget, Exception], Awaitable[None]]


async def _no_heartbeat() -> None:
    return None


class _Stopped(Exception):
    """Another export of the same `export_all` failed: this one stops."""


async def _wait(seconds: float, stop: asyncio.Event | None) -> None:
    """`seconds`, or less when `stop` is set (then `_Stopped`)."""
    if stop is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()
    if stop.is_set():
        raise _Stopped


class LeadExporter:
    """Exports with an account's token (`AdsService.call`), calling `heartbeat` after each
    poll's wait (a job renews its lease there; whatever it raises stops the export)."""

    def __init__(self, ads: AdsService, heartbeat: Heartbeat = _no_heartbeat) -> None:
        self.ads = ads
        settings = ads.settings
        self.poll_seconds = settings.leads_backfill_poll_seconds
        self.poll_attempts = settings.leads_backfill_poll_attempts
        self.concurrency = settings.leads_export_concurrency
        self.heartbeat = heartbeat

    async def export_all(
        self,
        access: AdsAccess,
        targets: Sequence[ExportTarget],
        handle: Handle,
        *,
        on_error: OnError | None = None,
    ) -> None:
        """Read every target's export, concurrently (see the module docstring), handing
        each to `handle` as it is read. An export that fails (`TikTokError`,
        `ExportFailed`) goes to `on_error`. Without one, or for any other exception (from
        `handle` or the heartbeat too), the other exports stop at their next step (never
        in the middle of a write) and the first exception is raised."""
        slots: dict[str, asyncio.Semaphore] = {}
        created = [asyncio.Event() for _ in targets]
        stop = asyncio.Event()
        failures: list[Exception] = []

        def fail(exc: Exception) -> None:
            failures.append(exc)
            stop.set()

        async def one(index: int, target: ExportTarget) -> None:
            try:
                if index:
                    # Tasks are created in order; a slot is taken only once it is our turn.
                    await created[index - 1].wait()
                slot = slots.setdefault(target.advertiser_id, asyncio.Semaphore(self.concurrency))
                async with slot:
                    if stop.is_set():
                        return
                    read = await self.read(access, target, created[index], stop)
            except _Stopped:
                return
            except (TikTokError, ExportFailed) as exc:
                if on_error is None:
                    fail(exc)
                    return
                try:
                    await on_error(target, exc)
                except Exception as error:
                    fail(error)
                return
            except Exception as exc:
                fail(exc)
                return
            finally:
                created[index].set()
            if stop.is_set():
                return
            try:
                await handle(read)
            except Exception as exc:
                fail(exc)

        await asyncio.gather(*(one(i, target) for i, target in enumerate(targets)))
        if failures:
            raise failures[0]

    async def read(
        self,
        access: AdsAccess,
        target: ExportTarget,
        created: asyncio.Event | None = None,
        stop: asyncio.Event | None = None,
    ) -> ExportRead:
        """One export, read; `created` is set once its task exists (or could not be made);
        `stop`, once set, ends the polling (`_Stopped`)."""
        try:
            content = await self._export(access, target, created, stop)
        except (TikTokBadRequest, TikTokScopeNotGranted) as exc:
            if target.region is None:
                raise
            return ExportRead(target, refused=exc.code)
        try:
            parsed = parse_export(
                content,
                advertiser_id=target.advertiser.advertiser_id,
                advertiser_name=target.advertiser.advertiser_name,
                form_id=target.form.page_id,
                form_name=target.form.title,
                region=target.region,
            )
        except ExportFormatError as exc:
            raise ExportFailed(
                f"the export of form {target.form.page_id} is unreadable: {exc}"
            ) from exc
        unique: dict[str, ParsedLead] = {}
        for lead in parsed.leads:
            unique.setdefault(lead.tiktok_lead_id, lead)
        return ExportRead(target, list(unique.values()), parsed.skipped)

    async def _export(
        self,
        access: AdsAccess,
        target: ExportTarget,
        created: asyncio.Event | None,
        stop: asyncio.Event | None,
    ) -> bytes:
        client = self.ads.client()
        advertiser_id, form_id, region = target.advertiser_id, target.form.page_id, target.region
        try:
            task_id = await self.ads.call(
                access,
                partial(
                    client.create_lead_task,
                    advertiser_id=advertiser_id,
                    page_id=form_id,
                    region=region,
                ),
            )
        finally:
            if created is not None:
                created.set()
        for poll in range(1, self.poll_attempts + 1):
            await _wait(backoff_ceiling(poll, self.poll_seconds, MAX_POLL_DELAY_SECONDS), stop)
            await self.heartbeat()
            status = await self.ads.call(
                access,
                partial(
                    client.lead_task_status,
                    advertiser_id=advertiser_id,
                    page_id=form_id,
                    task_id=task_id,
                    region=region,
                ),
            )
            if status == SUCCEEDED:
                return await self.ads.call(
                    access,
                    partial(
                        client.download_leads,
                        advertiser_id=advertiser_id,
                        task_id=task_id,
                        region=region,
                    ),
                )
            if status == FAILED:
                raise ExportFailed(f"TikTok's export task for {target.describe()} failed")
        raise ExportFailed(
            f"TikTok's export task for {target.describe()} did not finish after "
            f"{self.poll_attempts} polls"
        )
