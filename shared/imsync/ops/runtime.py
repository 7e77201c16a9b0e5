"""What an operator command runs against: the settings (file + environment), the SDK stores, maybe an emulator."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import click

from imsync.config import Settings
from imsync.domain.errors import ConfigError
from imsync.domain.model import Image
from imsync.emulator.environment import environment
from imsync.ops.profile import profile_credentials
from imsync.settings_file import file_and_environment, find_settings_file, located, set_variables, unknown_variables

if TYPE_CHECKING:
    from imsync.adapters.credentials import Credentials
    from imsync.adapters.huawei_iam import HuaweiDirectory
    from imsync.adapters.huawei_ims import ImsClients
    from imsync.adapters.huawei_ims_reads import OperatorImageStore
    from imsync.emulator import Emulator
    from imsync.service import Replicator, Result


class NoCredentials(ConfigError):
    """No access keys anywhere the CLI looks (a settings error: exit 2)."""

    fix = (
        "export HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (credentials never go in imsync.toml); "
        "`imsync doctor` then checks them"
    )


@dataclass
class Runtime:
    """Settings and adapters for one command, built lazily so that `doctor` can check each piece."""

    env: Mapping[str, str]
    emulator: Emulator | None = None
    origins: Mapping[str, str] = field(default_factory=dict)  # variable -> "FILE: key" when imsync.toml set it
    seen: dict[str, Image] = field(default_factory=dict)  # every image the stores listed or read
    settings_file: str = ""  # the imsync.toml read, "" when none
    file_problem: str = ""  # why the settings file could not be used (only when the command asked to go on)
    _stores: dict[str, OperatorImageStore] = field(default_factory=dict)

    @cached_property
    def settings(self) -> Settings:
        try:
            return Settings.from_env(self.env)
        except ConfigError as exc:
            raise located(exc, self.origins) from None

    @cached_property
    def credentials(self) -> Credentials:
        """The functions' order (environment, AWS secret), then the SDK's profile file as the CLI's last resort."""
        from imsync.adapters.credentials import resolve_credentials

        try:
            return resolve_credentials(None, self.settings.credentials_secret, self.env)
        except ConfigError as exc:
            if not str(exc).startswith("no Huawei Cloud credentials"):
                raise
            found = profile_credentials(self.env)
            if found is None:
                raise NoCredentials(
                    "no Huawei Cloud credentials: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, or write them to "
                    "the SDK's profile file (~/.huaweicloud/credentials, [basic] ak = ..., sk = ...); "
                    "or try everything locally with --emulator"
                ) from None
            return found

    def require_setup(self) -> None:
        """ConfigError naming what is missing, before a command could mistake "not configured" for "nothing to do"."""
        if not self.settings.source_regions:
            raise ConfigError(
                "no source region: set IMSYNC_HOME_REGION (or IMSYNC_SOURCE_REGIONS), or home_region in "
                "imsync.toml; or try everything locally with --emulator"
            )
        self.credentials  # noqa: B018 - raises the ConfigError that names the missing keys

    @cached_property
    def _clients(self) -> ImsClients:
        from imsync.bootstrap import ims_clients

        return ims_clients(self.credentials, self.settings.http_timeout)

    def store(self, region: str) -> OperatorImageStore:
        """The region's ImageStore (one per command), remembering the images it sees."""
        from imsync.adapters.huawei_ims_reads import OperatorImageStore
        from imsync.bootstrap import waiting
        from imsync.retry import Retrier

        if region not in self._stores:
            # Retries wait as the functions' do: on an embedded emulator its clock moves, nobody waits for real.
            self._stores[region] = OperatorImageStore(region, self._clients, Retrier(sleep=waiting), self.seen)
        return self._stores[region]

    def listed(self, region: str) -> bool:
        return region in self._stores and self._stores[region].listed

    @cached_property
    def directory(self) -> HuaweiDirectory:
        from imsync.adapters.huawei_iam import HuaweiDirectory, iam_endpoint

        domain = self.env.get("HUAWEICLOUD_SDK_DOMAIN_ID", "").strip() or None
        endpoint = iam_endpoint(self.env, self.settings.home_region)
        return HuaweiDirectory(self.credentials, endpoint, domain, self.settings.http_timeout)

    def replicator(self, log: Callable[[Result], None] | None = None, notify: bool = False) -> Replicator:
        """The functions' engine, over this command's stores (built where the functions' is: imsync.bootstrap)."""
        from imsync import bootstrap

        # Notifications only when the command asks for them (apply) and IMSYNC_EVENT_BUS is set.
        notifier = bootstrap.notifier(settings=self.settings) if notify and self.settings.event_bus else None
        # On the emulator, a copy is stuck by the emulated cloud's clock, not the machine's.
        now = self.emulator.clock.now if self.emulator is not None else None
        return bootstrap.wire_replicator(self.settings, self.store, notifier, log=log, time_of_day=now)

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock (no-op against a real cloud, where time passes by itself)."""
        if self.emulator is not None:
            self.emulator.clock.advance(seconds)


@contextmanager
def open_runtime(config: str | None, use_emulator: bool, lenient: bool = False) -> Iterator[Runtime]:
    """A Runtime over the real settings, or over a fresh emulator seeded with the demo estate.

    `lenient` (doctor): a settings file that cannot be read is noted in `file_problem`, and the environment
    alone is used, so that every other check still runs.
    """
    if not use_emulator:
        path, problem = find_settings_file(config), ""
        try:
            env, origins = file_and_environment(config)
        except ConfigError as exc:
            if not lenient:
                raise
            env, origins, problem = set_variables(os.environ), {}, str(exc)
        for line in unknown_variables(env):
            click.echo(f"warning: {line}", err=True)
        yield Runtime(env, origins=origins, settings_file=str(path or ""), file_problem=problem)
        return
    from imsync.bootstrap import emulated_time
    from imsync.demo.estate import REGIONS, seed_demo_estate
    from imsync.emulator import Emulator, ManualClock

    with Emulator(regions=REGIONS, clock=ManualClock()) as cloud:
        estate = seed_demo_estate(cloud)
        with environment(estate.env), emulated_time(cloud.clock.advance):
            yield Runtime(dict(os.environ), emulator=cloud)
