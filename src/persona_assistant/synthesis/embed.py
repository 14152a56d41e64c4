"""Sentence embeddings for synthesis: WordLlama's static token vectors, loaded offline.

Why WordLlama (measured on fixtures/synthesis-eval, see bench/bench_synthesis.py --themes):
its 256-dimension token table ships inside the PyPI wheel (16 MB, MIT), embeds ten
thousand sentences in well under a second on two cores with numpy only, and separates
"says the same thing" from "says something else" better than content-word overlap.
Sentence-transformer models (MiniLM) need PyTorch, hundreds of MB and tens of seconds for
the 100-transcript bench, and model2vec fetches its weights from a model hub at run time.

WordLlama's own loader looks for the tokenizer under `tokenizer/` while the wheel ships
it under `tokenizers/`, then tries to download it: so the two files are opened here
straight from the installed package, and nothing is ever fetched.

`Embedder.embed(texts)` returns L2-normalised float32 rows, so a dot product is the cosine.
One Embedder is loaded per process on first use (`default_embedder`), never at import.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

import numpy as np

WEIGHTS = "weights/l2_supercat_256.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
BATCH = 512


class Embedder:
    """Mean-pooled WordLlama token vectors (what WordLlamaInference.embed computes)."""

    def __init__(self) -> None:
        from safetensors import safe_open
        from tokenizers import Tokenizer

        pkg = files("wordllama")
        with safe_open(str(pkg / WEIGHTS), framework="np", device="cpu") as f:
            self.table = np.ascontiguousarray(f.get_tensor("embedding.weight").astype(np.float32))
        self.tokenizer = Tokenizer.from_file(str(pkg / TOKENIZER))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        # Without character offsets (not needed here) tokenizing takes half the CPU (tokenizers >= 0.21).
        self.encode = getattr(self.tokenizer, "encode_batch_fast", self.tokenizer.encode_batch)

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.table.shape[1]), dtype=np.float32)
        for start in range(0, len(texts), BATCH):
            # No padding, so every id is a token: one gather and one segment sum per batch.
            encs = self.encode(texts[start:start + BATCH])
            counts = np.array([len(e.ids) for e in encs])
            rows = np.nonzero(counts)[0]
            if not len(rows):
                continue
            ids = np.fromiter((t for e in encs for t in e.ids), dtype=np.int64, count=int(counts.sum()))
            offsets = np.concatenate(([0], np.cumsum(counts[rows])[:-1]))
            sums = np.add.reduceat(self.table[ids], offsets, axis=0)
            out[start + rows] = sums / counts[rows, None]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


@lru_cache(maxsize=1)
def default_embedder() -> Embedder:
    return Embedder()
