"""The approved-tools register: reading it from files and finding tools named in a question."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from domain.records import Tool

CATEGORIES = {
    "public": "public tool",
    "public tool": "public tool",
    "enterprise": "feature of an enterprise platform",
    "feature of an enterprise platform": "feature of an enterprise platform",
    "enterprise platform feature": "feature of an enterprise platform",
    "internal": "internal tool",
    "internal tool": "internal tool",
    "procured": "procured",
    "open source": "open source deployed internally",
    "open source deployed internally": "open source deployed internally",
}
STATUSES = {
    "approved": "approved",
    "approved with conditions": "approved with conditions",
    "conditional": "approved with conditions",
    "not approved": "not approved",
    "rejected": "not approved",
    "prohibited": "not approved",
}

# Widely used GenAI products, so a question about one that is missing from the register can be
# told "not on the approved list" rather than answered as if it were a general question.
WELL_KNOWN_AI_TOOLS = (
    "ChatGPT", "OpenAI", "GPT-4", "GPT-5", "Claude", "Anthropic", "Gemini", "Bard", "Copilot",
    "Microsoft Copilot", "GitHub Copilot", "Midjourney", "DALL-E", "Stable Diffusion", "Perplexity",
    "Grammarly", "Otter", "Otter.ai", "Fireflies", "DeepSeek", "Llama", "Mistral", "Le Chat", "Grok",
    "Meta AI", "Jasper", "Notion AI", "Canva", "Synthesia", "ElevenLabs", "Poe", "Character.ai",
    "Firefly", "Adobe Firefly", "Zoom AI Companion", "Runway", "Suno", "Qwen", "Pi", "You.com",
    "Magic Notes", "Beam", "tl;dv", "Read.ai", "Fathom", "QuillBot", "Wordtune", "Gamma", "Tome",
)


class RegisterFileError(ValueError):
    """The register file cannot be read; the message names the row and the problem."""


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[‘’´`]", "'", text)
    return re.sub(r"[^\w.+#' -]+", " ", text).strip()


def tool_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", normalise(name))


def _parse_date(value: object, where: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise RegisterFileError(f"{where}: '{value}' is not a date (use YYYY-MM-DD)") from None


def _tool_from_mapping(entry: dict, where: str) -> Tool:
    entry = {str(k).strip().lower().replace(" ", "_"): v for k, v in entry.items() if k is not None}
    name = str(entry.get("name") or "").strip()
    if not name:
        raise RegisterFileError(f"{where}: the tool has no name")
    category = CATEGORIES.get(str(entry.get("category") or "").strip().lower())
    if category is None:
        raise RegisterFileError(
            f"{where} ({name}): category '{entry.get('category')}' is not one of: {', '.join(sorted(set(CATEGORIES.values())))}"
        )
    status = STATUSES.get(str(entry.get("status") or "").strip().lower())
    if status is None:
        raise RegisterFileError(f"{where} ({name}): status '{entry.get('status')}' is not approved, approved with conditions or not approved")
    aliases = entry.get("aliases") or []
    if isinstance(aliases, str):
        aliases = [a for a in re.split(r"[;|,]", aliases)]
    return Tool(
        name=name,
        category=category,
        status=status,
        aliases=tuple(str(a).strip() for a in aliases if str(a).strip()),
        conditions=(str(entry.get("conditions")).strip() or None) if entry.get("conditions") else None,
        approved_by=(str(entry.get("approved_by")).strip() or None) if entry.get("approved_by") else None,
        approved_on=_parse_date(entry.get("approved_on") or entry.get("date"), f"{where} ({name})"),
        review_due=_parse_date(entry.get("review_due"), f"{where} ({name})"),
    )


def read_register(path: Path) -> list[Tool]:
    """Read a register from CSV (one row per tool) or YAML (a list, or {tools: [...]})."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RegisterFileError(f"cannot read {path}: {exc}") from None
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(io.StringIO(raw)))
        return [_tool_from_mapping(row, f"row {n}") for n, row in enumerate(rows, start=2)]
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise RegisterFileError(f"{path} is not valid YAML: {exc}") from None
        if isinstance(data, dict):
            data = data.get("tools")
        if not isinstance(data, list):
            raise RegisterFileError(f"{path}: expected a list of tools (or 'tools:' holding one)")
        return [
            _tool_from_mapping(item if isinstance(item, dict) else {}, f"entry {n}") for n, item in enumerate(data, start=1)
        ]
    raise RegisterFileError(f"{path}: use a .csv, .yaml or .yml file")


@dataclass(frozen=True)
class ToolMention:
    name: str  # as the register or the well-known list spells it
    tool: Tool | None  # None: not on the register


_CAN_USE = re.compile(
    r"\b(?:use|using|try|install|approved?|allowed|permitted|ok|okay|banned|authori[sz]ed)\s+(?:to\s+use\s+)?"
    r"([A-Z][\w.+-]*(?:\s+[A-Z][\w.+-]*){0,2})"
)
_IS_APPROVED = re.compile(
    r"\b(?:is|are)\s+([A-Z][\w.+-]*(?:\s+[A-Z][\w.+-]*){0,2})\s+(?:approved|allowed|permitted|ok|okay|banned|authori[sz]ed|safe|on the)"
)
_NOT_TOOLS = {"i", "we", "the", "a", "an", "it", "this", "that", "ai", "genai", "my", "our", "teams", "outlook",
              "word", "excel", "what", "which", "who", "how", "when", "can", "do", "does", "to", "for", "policy"}


class ToolFinder:
    """Finds tools named in free text: register entries first, then well-known tools not on it."""

    def __init__(self, tools: list[Tool]) -> None:
        self._by_phrase: dict[str, Tool] = {}
        for tool in tools:
            for phrase in (tool.name, *tool.aliases):
                key = normalise(phrase)
                if key:
                    self._by_phrase[key] = tool
        self._known = {normalise(n): n for n in WELL_KNOWN_AI_TOOLS}

    def _phrases(self, text: str) -> list[str]:
        words = normalise(text).replace("?", " ").split()
        words = [w.strip(".'") for w in words]
        found = []
        for size in (4, 3, 2, 1):
            for start in range(len(words) - size + 1):
                found.append(" ".join(words[start : start + size]))
        return found

    def find(self, text: str) -> list[ToolMention]:
        mentions: list[ToolMention] = []
        seen: set[str] = set()
        covered: set[str] = set()
        for phrase in self._phrases(text):
            if any(phrase in c.split() or phrase in c for c in covered):
                continue
            tool = self._by_phrase.get(phrase)
            if tool is not None and tool.name not in seen:
                mentions.append(ToolMention(tool.name, tool))
                seen.add(tool.name)
                covered.add(phrase)
            elif tool is None and phrase in self._known and self._known[phrase] not in seen:
                mentions.append(ToolMention(self._known[phrase], None))
                seen.add(self._known[phrase])
                covered.add(phrase)
        if not mentions:
            for pattern in (_IS_APPROVED, _CAN_USE):
                match = pattern.search(text)
                if match and match.group(1).split()[0].lower() not in _NOT_TOOLS:
                    mentions.append(ToolMention(match.group(1).strip(".,?! "), None))
                    break
        return mentions
