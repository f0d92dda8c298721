"""A small static sentence-embedding model that ships inside the `wordllama` wheel, loaded offline.

WordLlama's own loader looks for its tokenizer in a folder that does not exist in the wheel
(`wordllama/tokenizer/` instead of `wordllama/tokenizers/`) and then fetches it from the network;
importing its package also reconfigures the root logger. So the two files the wheel ships, the
tokenizer definition and the token-embedding table, are opened here directly by path, with the
hub's offline switches set, and sentences are embedded as WordLlama does: the mean of their
tokens' vectors, normalised.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np

MODEL_CONFIG = "l2_supercat"
MODEL_DIM = 256


class SemanticModelError(RuntimeError):
    """The bundled model's files are missing or unreadable."""


def _package_dir() -> Path:
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise SemanticModelError("the wordllama package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


class StaticEmbedder:
    """Sentence vectors as the (unit-length) mean of token vectors."""

    def __init__(self, package_dir: Path | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from safetensors import safe_open
        from tokenizers import Tokenizer

        root = package_dir or _package_dir()
        tokenizer_path = root / "tokenizers" / f"{MODEL_CONFIG}_tokenizer_config.json"
        weights_path = root / "weights" / f"{MODEL_CONFIG}_{MODEL_DIM}.safetensors"
        for path in (tokenizer_path, weights_path):
            if not path.is_file():
                raise SemanticModelError(f"the bundled model file {path.name} is missing from {root}")
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        with safe_open(str(weights_path), framework="np", device="cpu") as weights:
            self.table = np.ascontiguousarray(weights.get_tensor("embedding.weight").astype(np.float32))
        self._words: dict[str, np.ndarray] = {}
        self._last: tuple[str, np.ndarray] | None = None

    @property
    def nbytes(self) -> int:
        return self.table.nbytes

    KEEP = 4096  # single words whose vectors are kept (about 4 MB)

    def embed(self, texts: list[str]) -> np.ndarray:
        if len(texts) == 1:
            return self._one(texts[0])
        return self._embed(texts)

    def _one(self, text: str) -> np.ndarray:
        """A single text's vector, kept (read-only): a search embeds its question once per semantic ranker
        (passages, sections, taught questions) and looks up its words' nearest document words per lexical one.
        Single words are kept, a few thousand at most; of longer texts (what people asked) only the last."""
        last = self._last
        if last is not None and last[0] == text:
            return last[1]
        vector = self._words.get(text)
        if vector is None:
            vector = self._embed([text])
            vector.setflags(write=False)
            if text.isalnum():
                if len(self._words) >= self.KEEP:
                    self._words.clear()
                self._words[text] = vector
        self._last = (text, vector)
        return vector

    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.table.shape[1]), dtype=np.float32)
        if not texts:
            return out
        for row, encoding in enumerate(self.tokenizer.encode_batch(texts, add_special_tokens=False)):
            ids = np.asarray(encoding.ids, dtype=np.int64)
            if ids.size:
                np.clip(ids, 0, self.table.shape[0] - 1, out=ids)
                out[row] = self.table[ids].mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms
