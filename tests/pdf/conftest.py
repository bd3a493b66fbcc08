"""Rendered samples are reused across tests: rendering is the slow part."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from portal.models.vocab import DocumentKind
from portal.pdf.documents import pdf_for
from portal.pdf.samples import sample


@pytest.fixture(scope="session")
def pdf_cache() -> dict[object, bytes]:
    return {}


@pytest.fixture
def sample_pdf(app: Flask, pdf_cache: dict[object, bytes]) -> Callable[[DocumentKind], bytes]:
    """The PDF of a kind's sample snapshot, rendered once per test run."""

    def get(kind: DocumentKind) -> bytes:
        if kind not in pdf_cache:
            pdf_cache[kind] = pdf_for(kind, sample(kind))
        return pdf_cache[kind]

    return get
