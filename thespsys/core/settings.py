"""Runner settings: one frozen object, derived once, sent to every actor."""

from __future__ import annotations

from dataclasses import dataclass, field

from thespsys.core.supervision import RestartPolicy
from thespsys.errors import ConfigurationError

# simpleSystemBase runs actors only inside the caller's ask()/listen() calls,
# so masters' timers and slaves' runs would not happen between commands.
BASES = ("multiprocTCPBase", "multiprocQueueBase")


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    """How the actor system runs.

    ``poll_interval``: seconds between a master's unprompted runs, so that events
    recorded elsewhere or while a prompt was lost are still processed.
    ``run_budget``: seconds a slave may process before it reports back, which
    keeps actor handlers short and lets prompts flow downstream during long
    catch-ups. ``read_size``: notifications read per query.
    ``batch_size``: notifications a slave processes in one database
    transaction (1: one at a time); a batch is what is there to process, at
    most this many, and never waits to fill. ``batch_max_delay``: seconds of
    processing after which a batch is committed even if it is smaller, so
    that a batch holds back its first notification's results no longer.
    ``processing_deadline``: seconds after which a slave still busy with one
    run is taken for stuck, killed (its transaction rolls back) and replaced.
    ``restarts``: how crashed slaves, masters and pipelines are restarted.
    ``wakeup_interval``: seconds between the change watcher's looks at a
    SQLite file (``thespsys.actors.watcher``; PostgreSQL wakes it at once),
    which wake the masters when another process wrote to a leader; 0: no
    watcher (then only the poll timer sees such writes).
    ``authenticate``: seal every actor message with a secret
    (``thespsys.core.secret``: ``THESPSYS_SECRET``, else ``secret_file``, else
    one made for this process) and refuse the others before unpickling them.
    """

    base: str = "multiprocTCPBase"
    admin_port: int | None = None
    poll_interval: float = 1.0
    run_budget: float = 0.5
    read_size: int = 100
    batch_size: int = 100
    batch_max_delay: float = 0.1
    start_timeout: float = 60.0
    ask_timeout: float = 10.0
    bind_all_interfaces: bool = False
    authenticate: bool = True
    secret_file: str | None = None
    processing_deadline: float = 60.0
    wakeup_interval: float = 0.005
    restarts: RestartPolicy = field(default_factory=RestartPolicy)

    def __post_init__(self) -> None:
        if self.base not in BASES:
            raise ConfigurationError(
                "base", f"{self.base!r} is not one of {', '.join(BASES)}"
            )
        if self.admin_port is not None and not 0 < self.admin_port < 65536:
            raise ConfigurationError(
                "admin_port", f"{self.admin_port} is not a TCP port number"
            )
        for name in (
            "poll_interval",
            "run_budget",
            "start_timeout",
            "ask_timeout",
            "processing_deadline",
            "batch_max_delay",
        ):
            if not getattr(self, name) > 0:
                raise ConfigurationError(name, "must be a positive number of seconds")
        if not self.wakeup_interval >= 0:
            raise ConfigurationError(
                "wakeup_interval", "must be 0 (off) or a positive number of seconds"
            )
        for name in ("read_size", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigurationError(name, "must be at least 1")
