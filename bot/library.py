"""The current policy, parsed and indexed, and the tool register, kept warm for answering."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import Settings
from domain import EXAMPLE_TOOLS_PATH
from domain.policy_parse import PolicyDocument, parse_policy
from domain.policy_search import PolicyIndex, Vocabulary
from domain.policy_text import Placeholders, policy_source_text
from domain.records import PolicyVersion
from domain.tools import ToolFinder, read_register

if TYPE_CHECKING:  # only named here: a policy file searched alone (`qa test --policy`, `ask --policy`) needs no database
    from storage.pairings import PairingRepository
    from storage.policies import PolicyRepository
    from storage.tools import ToolRepository

# Several bot processes share one database; each re-checks which version is current this often.
FRESHNESS_SECONDS = 5.0


@dataclass(frozen=True)
class LoadedPolicy:
    version: PolicyVersion | None
    document: PolicyDocument
    index: PolicyIndex


def placeholders(settings: Settings) -> Placeholders:
    return Placeholders(settings.org_name, settings.genai_authority_name, settings.genai_authority_contact)


def load_policy_file(path: Path, settings: Settings, vocabulary: Vocabulary | None = None) -> LoadedPolicy:
    """Parse a policy straight from a file, without the database (for `policy-bot ask --policy`)."""
    document = parse_policy(policy_source_text(path), placeholders(settings))
    return LoadedPolicy(None, document, PolicyIndex(document, vocabulary))


class PolicyLibrary:
    def __init__(self, settings: Settings, policies: PolicyRepository, tools: ToolRepository,
                 pairings: PairingRepository | None = None) -> None:
        self._settings = settings
        self._policies = policies
        self._tools = tools
        self._pairings = pairings
        self._vocabulary = Vocabulary.load()
        self._loaded: LoadedPolicy | None = None
        self._checked_at = 0.0
        self._generation: tuple[int, int] | None = None  # of the pairings the index was built with
        self._changes_seen = 0  # this process's teach and forget count when the index was built
        self._refreshing = False
        self._finder: ToolFinder | None = None
        self._finder_at = 0.0

    async def ensure_published(self) -> PolicyVersion | None:
        """On first run, publish the configured policy (the bundled example unless POLICY_PATH says otherwise)."""
        if await self._policies.current_id() is not None:
            return None
        path = self._settings.policy_path
        return await self._policies.publish(
            label=f"{path.stem}-initial", text=policy_source_text(path), source_name=path.name, published_by="system (first run)"
        )

    async def ensure_register(self) -> int:
        """On first run with an empty register, load TOOLS_PATH or the bundled example register."""
        if await self._tools.count():
            return 0
        path = self._settings.tools_path or EXAMPLE_TOOLS_PATH
        added, _ = await self._tools.upsert(read_register(path), actor="system (first run)")
        self.forget_tools()
        return added

    async def current(self, *, fresh: bool = False) -> LoadedPolicy:
        """The current version, indexed with its pairings; `fresh` re-checks now instead of trusting the last few
        seconds' answer. A pairing taught or forgotten in this process is used at once; on another, within
        FRESHNESS_SECONDS."""
        now = time.monotonic()
        changed_here = self._pairings is not None and self._pairings.changes != self._changes_seen
        if not fresh and not changed_here and self._loaded is not None and now - self._checked_at < FRESHNESS_SECONDS:
            return self._loaded
        if self._refreshing and self._loaded is not None:
            return self._loaded  # another turn is rebuilding it; answer from the one in hand meanwhile
        self._refreshing = True
        try:
            return await self._refresh(now)
        finally:
            self._refreshing = False

    async def _refresh(self, now: float) -> LoadedPolicy:
        current_id = await self._policies.current_id()
        self._changes_seen = self._pairings.changes if self._pairings is not None else 0
        generation = await self._pairings.generation(current_id) \
            if self._pairings is not None and current_id is not None else None
        if self._loaded is None or self._loaded.version is None or self._loaded.version.id != current_id:
            version = await self._policies.current()
            if version is None:
                self._loaded = load_policy_file(self._settings.policy_path, self._settings, self._vocabulary)
            else:
                document = parse_policy(version.text, placeholders(self._settings))
                self._loaded = await self._indexed(version, document)
        elif generation != self._generation:
            self._loaded = await self._indexed(self._loaded.version, self._loaded.document)
        self._generation = generation
        self._checked_at = now
        return self._loaded

    async def _indexed(self, version: PolicyVersion, document: PolicyDocument) -> LoadedPolicy:
        """Built on a worker thread: an index takes up to a second or two, and pairings change it during the day,
        so the turns arriving meanwhile are not held up (they are answered from the previous index)."""
        pairings = await self._pairings.list(version.id) if self._pairings is not None else []
        index = await asyncio.to_thread(PolicyIndex, document, self._vocabulary, pairings=pairings)
        return LoadedPolicy(version, document, index)

    async def tool_finder(self) -> ToolFinder:
        now = time.monotonic()
        if self._finder is None or now - self._finder_at > FRESHNESS_SECONDS:
            self._finder = ToolFinder(await self._tools.all())
            self._finder_at = now
        return self._finder

    def forget_tools(self) -> None:
        self._finder = None
