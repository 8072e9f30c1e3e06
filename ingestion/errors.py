"""Errors raised while ingesting a document; each message is written for the person uploading it."""

from __future__ import annotations


class IngestionCancelled(Exception):  # noqa: N818 - a request to stop, not a failure
    """The caller asked ingestion to stop (the process is shutting down). Nothing was written, so
    the document is left as it was, to be ingested again; this is not the document's fault, so it is
    not an `IngestionError`."""


class IngestionError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedDocument(IngestionError):
    """The file is of a type we do not read, or its content is not what its name claims."""


class InvalidDocument(IngestionError):
    """The file is of a supported type but cannot be read: empty, corrupt, encrypted, a zip bomb."""


class TooManyChunks(InvalidDocument):
    """Splitting went past the most chunks the caller has room for; it stopped there, so a huge
    file costs no more than that many chunks' work before it is refused."""


class EmbeddingModelMismatch(IngestionError):
    """A chatbot's index was built with another embedding model than the one now configured."""

    def __init__(
        self,
        *,
        index_model: str | None,
        index_dim: int | None,
        current_model: str,
        current_dim: int,
    ) -> None:
        built_with = (
            f"the embedding model {index_model!r} ({index_dim} dimensions)"
            if index_model
            else "an unknown embedding model"
        )
        super().__init__(
            f"This chatbot's index was built with {built_with}, but the service now uses "
            f"{current_model!r} ({current_dim} dimensions). Reindex the chatbot to rebuild its "
            "index with the current model."
        )
