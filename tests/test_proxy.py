"""Councils often send outbound traffic through a proxy: HTTP(S)_PROXY and NO_PROXY are honoured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from support.activities import message
from support.bots import make_settings, running_bot
from support.servers import serving


@pytest.fixture
async def proxy():
    """A forward proxy on loopback that passes each request on and remembers where it was going."""
    seen: list[str] = []

    async def forward(request: web.Request) -> web.Response:
        seen.append(str(request.url))
        async with aiohttp.ClientSession() as session:
            async with session.request(request.method, request.url, data=await request.read(),
                                       headers={k: v for k, v in request.headers.items() if k.lower() != "host"}) as answer:
                return web.Response(status=answer.status, body=await answer.read(),
                                    content_type=answer.content_type)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    async with serving(app) as url:
        yield url, seen


async def test_replies_go_through_the_configured_proxy(tmp_path, connector, proxy, monkeypatch):
    proxy_url, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with running_bot(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")) as bot:
        response = await bot.post(message(connector, "help"))
        assert response.status == 200
        await connector.wait_for(2)  # the welcome card and the help card
        assert [url for url in seen if url.startswith(connector.url)], seen


async def test_no_proxy_is_respected(tmp_path, connector, proxy, monkeypatch):
    proxy_url, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with running_bot(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")) as bot:
        assert (await bot.post(message(connector, "help"))).status == 200
        await connector.wait_for(2)
        assert seen == []


def test_each_address_gets_the_proxy_its_scheme_and_no_proxy_say(monkeypatch):
    from bot.microsoft.credentials import Proxies

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.council.example:8080")
    monkeypatch.setenv("HTTP_PROXY", "http://plain-proxy.council.example:3128")
    monkeypatch.setenv("NO_PROXY", "graph.microsoft.com,.internal.example")
    proxies = Proxies()
    assert proxies.for_url("https://smba.trafficmanager.net/uk/v3/conversations") == "http://proxy.council.example:8080"
    assert proxies.for_url("http://connector.example/v3") == "http://plain-proxy.council.example:3128"
    assert proxies.for_url("https://graph.microsoft.com/v1.0/groups") is None
    assert proxies.for_url("https://bot.internal.example/api") is None


def test_the_suite_ignores_the_callers_proxy_settings():
    """Council machines often set proxy variables; `make test` must pass with them set, in either case."""
    here = Path(__file__).parent
    ambient = {"no_proxy": "localhost", "NO_PROXY": "localhost",  # 127.0.0.1 is not in them
               "HTTP_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9",  # nothing listens on port 9
               "HTTPS_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-k", "not ignores_the_callers_proxy",
         str(here / "test_proxy.py"), f"{here / 'test_http.py'}::test_first_personal_message_gets_welcome_then_an_answer"],
        capture_output=True, text=True, env={**os.environ, **ambient}, cwd=here.parent, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "4 passed" in result.stdout, result.stdout[-1000:]
