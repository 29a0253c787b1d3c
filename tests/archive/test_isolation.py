"""pywb stays out of the project's venv: its brotlipy would break Scrapy's ``br`` decoding."""

from __future__ import annotations

import importlib.util

import brotli
from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from tests.archive.pywb_server import pywb_venv

PAGE = b"<html><body><h1>Name:</h1> Mentoring programme</body></html>" * 50


def test_scrapy_decodes_br_responses() -> None:
    crawler = get_crawler()
    middleware = HttpCompressionMiddleware.from_crawler(crawler)
    request = Request("http://127.0.0.1/page.html")
    response = HtmlResponse(
        request.url,
        body=brotli.compress(PAGE),
        headers={"Content-Encoding": "br", "Content-Type": "text/html"},
        request=request,
    )
    decoded = middleware.process_response(request, response)
    assert decoded.body == PAGE
    assert b"Content-Encoding" not in decoded.headers


def test_pywb_runs_from_a_venv_of_its_own() -> None:
    assert importlib.util.find_spec("pywb") is None
    venv = pywb_venv()
    assert (venv / "bin" / "wayback").is_file()
    assert not list((venv / "lib").glob("*/site-packages/scrapy"))
