"""LLM providers against a real HTTP server speaking the OpenAI and Anthropic wire formats.

The clients are the real ``openai`` and ``anthropic`` SDKs; only the server is ours
(``tests/llm_wire_server.py``). No test reaches the network; the ones that would need a real key
are marked ``live`` and skipped unless one is given.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from llm_wire_server import CHAT, MESSAGES, WireServer, error, malformed, ok, slow

from kernelwright.agents.providers import (
    Message,
    Price,
    Provider,
    ProviderError,
    Request,
    RetryPolicy,
    cost_usd,
    price_for,
    provider_for,
)
from kernelwright.agents.providers.keys import load_keys, set_key
from kernelwright.agents.providers.prices import PriceLike
from kernelwright.agents.providers.scripted import ScriptedProvider

# The SDK warns about models it lists as deprecated; the tests do not care which model it is.
pytestmark = pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")

KEY = "sk-test-PLANTED-0123456789abcdef"
FAST = RetryPolicy(max_attempts=3, initial_delay_s=0.05, max_delay_s=0.2)
ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "KERNELWRIGHT_OPENAI_COMPATIBLE_KEY",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No key or base URL from the caller's environment; a keys file path of the test's own."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    keys_file = tmp_path / "config" / "keys.toml"
    monkeypatch.setenv("KERNELWRIGHT_KEYS", str(keys_file))
    return keys_file


@pytest.fixture
def server() -> Iterator[WireServer]:
    with WireServer() as running:
        yield running


@dataclass(frozen=True)
class Case:
    """One provider as the tests drive it."""

    prefix: str
    model: str
    path: str
    api_prefix: str  # what the base URL adds to the server's root

    def spec(self) -> str:
        return f"{self.prefix}:{self.model}"

    def build(
        self,
        server: WireServer,
        retry: RetryPolicy = FAST,
        prices: Mapping[str, PriceLike] | None = None,
    ) -> Provider:
        return provider_for(
            self.spec(),
            base_url=server.url + self.api_prefix,
            keys={self.prefix: KEY},
            prices=prices,
            retry=retry,
        )


OPENAI = Case("openai", "gpt-4o", CHAT, "/v1")
COMPATIBLE = Case("openai-compatible", "qwen2.5-coder-32b", CHAT, "/v1")
ANTHROPIC = Case("anthropic", "claude-sonnet-4-5", MESSAGES, "")
NETWORK = [OPENAI, COMPATIBLE, ANTHROPIC]
IDS = [case.prefix for case in NETWORK]

ASK = Request(
    messages=(
        Message("user", "Write a ReLU kernel."),
        Message("assistant", "In which language?"),
        Message("user", "Triton."),
    ),
    system="You write fast GPU kernels.",
    max_tokens=256,
    temperature=0.2,
    timeout_s=20.0,
)


def anthropic_key(headers: dict[str, str]) -> str:
    """The key an anthropic request carried (this SDK sends it as a bearer token)."""
    return headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")


def assert_one_line_without_key(exc: ProviderError) -> None:
    message = str(exc)
    assert "\n" not in message and message.strip() == message and message
    assert KEY not in message and KEY not in repr(exc)


# --- normal replies -------------------------------------------------------------------------


@pytest.mark.parametrize("case", NETWORK, ids=IDS)
def test_normal_reply(case: Case, server: WireServer) -> None:
    server.queue(ok("```python\nprint('relu')\n```", prompt_tokens=1200, completion_tokens=300))
    provider = case.build(server, prices={"qwen2.5-coder-32b": (0.5, 1.5)})
    reply = provider.complete(ASK)

    assert reply.text == "```python\nprint('relu')\n```"
    assert (reply.prompt_tokens, reply.completion_tokens) == (1200, 300)
    price = {OPENAI: Price(2.5, 10.0), COMPATIBLE: Price(0.5, 1.5), ANTHROPIC: Price(3.0, 15.0)}
    assert reply.cost_usd == pytest.approx(price[case].cost(1200, 300))
    assert reply.latency_s > 0 and reply.attempts == 1
    assert (reply.provider, reply.model) == (case.prefix, case.model)
    assert reply.raw["id"] and reply.raw["model"] == case.model
    assert KEY not in json.dumps(reply.raw) and KEY not in repr(provider)

    [seen] = server.requests
    assert seen.path == case.path
    body = seen.body
    assert body["model"] == case.model and body["temperature"] == 0.2
    if case is ANTHROPIC:
        assert anthropic_key(seen.headers) == KEY
        assert body["system"] == "You write fast GPU kernels."
        assert body["max_tokens"] == 256
        assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    else:
        assert seen.headers["authorization"] == f"Bearer {KEY}"
        assert body["messages"][0] == {"role": "system", "content": "You write fast GPU kernels."}
        assert [m["role"] for m in body["messages"][1:]] == ["user", "assistant", "user"]
        limit = "max_tokens" if case is COMPATIBLE else "max_completion_tokens"
        assert body[limit] == 256


def test_unpriced_model_costs_none(server: WireServer) -> None:
    reply = COMPATIBLE.build(server).complete(ASK)
    assert reply.cost_usd is None and reply.prompt_tokens == 12


def test_compatible_server_needs_no_key(server: WireServer) -> None:
    provider = provider_for("openai-compatible:llama3", base_url=server.url + "/v1", retry=FAST)
    assert provider.complete(Request.of("hi")).text
    assert server.requests[0].headers["authorization"] == "Bearer no-key"


def test_sdk_base_url_variables_are_honoured(
    server: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    provider_for("openai:gpt-4o-mini", retry=FAST).complete(Request.of("hi"))
    provider_for("anthropic:claude-haiku-4-5", retry=FAST).complete(Request.of("hi"))
    assert [seen.path for seen in server.requests] == [CHAT, MESSAGES]
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert anthropic_key(server.requests[1].headers) == KEY


# --- retries --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "header", "wait_s"),
    [(OPENAI, {"retry_after": "1"}, 1.0), (ANTHROPIC, {"retry_after_ms": "400"}, 0.4)],
    ids=["openai-retry-after", "anthropic-retry-after-ms"],
)
def test_rate_limit_waits_for_retry_after(
    case: Case, header: dict[str, str], wait_s: float, server: WireServer
) -> None:
    server.queue(error(429, **header), ok("after the wait"))
    reply = case.build(server).complete(ASK)
    assert reply.text == "after the wait" and reply.attempts == 2
    first, second = server.requests
    assert second.at - first.at >= wait_s  # FAST's own backoff is far shorter
    assert reply.latency_s >= wait_s


@pytest.mark.parametrize("case", NETWORK, ids=IDS)
def test_server_errors_are_retried(case: Case, server: WireServer) -> None:
    server.queue(error(500), error(503), ok("third time"))
    reply = case.build(server).complete(ASK)
    assert reply.text == "third time" and reply.attempts == 3
    assert len(server.requests) == 3


def test_retries_are_bounded(server: WireServer) -> None:
    server.queue(*[error(500)] * 5)
    with pytest.raises(ProviderError) as caught:
        OPENAI.build(server).complete(ASK)
    assert not caught.value.usage_error
    assert "gave up after 3 attempts" in str(caught.value)
    assert len(server.requests) == 3
    assert_one_line_without_key(caught.value)


def test_retry_after_beyond_the_limit_fails_at_once(server: WireServer) -> None:
    server.queue(error(429, retry_after="3600"))
    with pytest.raises(ProviderError, match="asks to wait 3600 s"):
        ANTHROPIC.build(server).complete(ASK)
    assert len(server.requests) == 1


# --- failures the user must fix -------------------------------------------------------------


@pytest.mark.parametrize("case", NETWORK, ids=IDS)
def test_refused_key_is_a_usage_error(case: Case, server: WireServer) -> None:
    server.queue(error(401))
    with pytest.raises(ProviderError) as caught:
        case.build(server).complete(ASK)
    assert caught.value.usage_error
    assert str(caught.value).startswith(f"the key for {case.prefix} was refused")
    assert_one_line_without_key(caught.value)
    assert len(server.requests) == 1  # a refused key is not retried


@pytest.mark.parametrize("case", NETWORK, ids=IDS)
def test_unknown_model_is_a_usage_error(case: Case, server: WireServer) -> None:
    server.queue(error(404))
    with pytest.raises(ProviderError) as caught:
        case.build(server).complete(ASK)
    assert caught.value.usage_error
    assert f"unknown model '{case.model}'" in str(caught.value)
    assert_one_line_without_key(caught.value)
    assert len(server.requests) == 1


def test_quota_exhausted_is_a_usage_error(server: WireServer) -> None:
    body = {
        "error": {
            "message": "You exceeded your current quota.",
            "type": "insufficient_quota",
            "param": None,
            "code": "insufficient_quota",
        }
    }
    server.queue(error(429, body=body))
    with pytest.raises(ProviderError, match="no quota left") as caught:
        OPENAI.build(server).complete(ASK)
    assert caught.value.usage_error and len(server.requests) == 1


def test_a_key_the_server_echoes_is_redacted(server: WireServer) -> None:
    server.queue(error(400, body={"error": {"message": f"bad request\nfor key {KEY}"}}))
    with pytest.raises(ProviderError) as caught:
        OPENAI.build(server).complete(ASK)
    assert not caught.value.usage_error
    assert "for key ***" in str(caught.value)
    assert_one_line_without_key(caught.value)


@pytest.mark.parametrize(
    ("spec", "variable"),
    [("openai:gpt-4o", "OPENAI_API_KEY"), ("anthropic:claude-opus-4-1", "ANTHROPIC_API_KEY")],
)
def test_missing_key_fails_before_any_request(
    spec: str, variable: str, server: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    monkeypatch.setenv(variable, "")
    prefix = spec.split(":")[0]
    with pytest.raises(ProviderError) as caught:
        provider_for(spec, retry=FAST).complete(ASK)
    assert caught.value.usage_error
    assert str(caught.value) == (
        f"{variable} is not set: export it or run `kernelwright keys set {prefix}`"
    )
    assert server.requests == []


# --- failures of the server -----------------------------------------------------------------


@pytest.mark.parametrize("case", NETWORK, ids=IDS)
def test_malformed_json_fails_after_retries(case: Case, server: WireServer) -> None:
    server.queue(*[malformed()] * 3)
    with pytest.raises(ProviderError) as caught:
        case.build(server).complete(ASK)
    assert not caught.value.usage_error
    assert "malformed reply" in str(caught.value)
    assert_one_line_without_key(caught.value)
    assert len(server.requests) == 3


def test_malformed_then_good_reply_recovers(server: WireServer) -> None:
    server.queue(malformed(), ok("fine now"))
    assert ANTHROPIC.build(server).complete(ASK).text == "fine now"


@pytest.mark.parametrize("case", [OPENAI, ANTHROPIC], ids=["openai", "anthropic"])
def test_slow_reply_times_out(case: Case, server: WireServer) -> None:
    server.queue(slow(5.0), slow(5.0))
    retry = RetryPolicy(max_attempts=2, initial_delay_s=0.01)
    request = Request.of("hi", timeout_s=0.5)
    with pytest.raises(ProviderError) as caught:
        case.build(server, retry=retry).complete(request)
    assert not caught.value.usage_error
    assert "did not answer within 0.5 s" in str(caught.value)
    assert "gave up after 2 attempts" in str(caught.value)
    assert_one_line_without_key(caught.value)
    assert server.wait_for_requests(2)


# --- keys -----------------------------------------------------------------------------------


def test_keys_file_readable_by_others_is_refused(clean_env: Path, server: WireServer) -> None:
    clean_env.parent.mkdir(parents=True)
    clean_env.write_text(f'openai = "{KEY}"\n')
    clean_env.chmod(0o644)
    with pytest.raises(ProviderError) as caught:
        provider_for("openai:gpt-4o", base_url=server.url + "/v1")
    assert caught.value.usage_error
    assert "mode 644" in str(caught.value) and f"chmod 600 {clean_env}" in str(caught.value)
    assert_one_line_without_key(caught.value)
    assert server.requests == []


def test_keys_file_with_mode_600_is_used(clean_env: Path, server: WireServer) -> None:
    clean_env.parent.mkdir(parents=True)
    clean_env.write_text(f'openai = "{KEY}"\nanthropic = "sk-ant-other"\n')
    clean_env.chmod(0o600)
    provider_for("openai:gpt-4o", base_url=server.url + "/v1", retry=FAST).complete(ASK)
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_environment_wins_over_keys_file(
    clean_env: Path, server: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_key("anthropic", "sk-ant-from-file")
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    provider_for("anthropic:claude-3-5-haiku", base_url=server.url, retry=FAST).complete(ASK)
    assert anthropic_key(server.requests[0].headers) == KEY


def test_set_key_writes_mode_600(clean_env: Path) -> None:
    set_key("openai", KEY)
    path = set_key("anthropic", 'sk-ant-second"quoted\\')
    assert path == clean_env
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_keys() == {"openai": KEY, "anthropic": 'sk-ant-second"quoted\\'}
    set_key("openai", "sk-replaced")
    assert load_keys()["openai"] == "sk-replaced"
    assert [p.name for p in path.parent.iterdir()] == ["keys.toml"]  # no temporary left


def test_set_key_refuses_odd_input(clean_env: Path) -> None:
    for provider, key in [("open ai", "k"), ("openai", ""), ("openai", "two\nlines")]:
        with pytest.raises(ProviderError):
            set_key(provider, key)
    assert not clean_env.exists()


def test_invalid_keys_file_does_not_quote_it(clean_env: Path) -> None:
    clean_env.parent.mkdir(parents=True)
    clean_env.write_text(f"openai = {KEY}\n")  # unquoted: not TOML
    clean_env.chmod(0o600)
    with pytest.raises(ProviderError) as caught:
        load_keys()
    assert caught.value.usage_error and "not valid TOML" in str(caught.value)
    assert_one_line_without_key(caught.value)


# --- scripted -------------------------------------------------------------------------------


def test_scripted_answers_in_order_then_raises(tmp_path: Path) -> None:
    script = tmp_path / "replies.json"
    script.write_text(json.dumps(["first", "second"]))
    provider = provider_for(f"scripted:{script}")
    assert [provider.complete(ASK).text for _ in range(2)] == ["first", "second"]
    with pytest.raises(ProviderError, match="no reply left") as caught:
        provider.complete(ASK)
    assert not caught.value.usage_error
    fresh = provider_for(f"scripted:{script}").complete(ASK)
    assert (fresh.text, fresh.cost_usd, fresh.prompt_tokens, fresh.completion_tokens) == (
        "first",
        0.0,
        0,
        0,
    )
    assert fresh.provider == "scripted" and fresh.raw == {
        "script": str(script),
        "tag": "*",
        "index": 0,
    }


def test_scripted_replies_keyed_by_tag(tmp_path: Path) -> None:
    script = tmp_path / "replies.json"
    script.write_text(json.dumps({"coder": ["c1", "c2"], "judge": ["j1"], "*": ["other"]}))
    provider = ScriptedProvider(script)

    def ask(tag: str) -> str:
        return provider.complete(Request.of("x", tag=tag)).text

    assert [ask("judge"), ask("coder"), ask("coder"), ask("summary")] == ["j1", "c1", "c2", "other"]
    with pytest.raises(ProviderError, match="for tag 'judge'"):
        ask("judge")


@pytest.mark.parametrize("content", ['{"coder": "not a list"}', "[1, 2]", "not json", None])
def test_scripted_bad_file_is_a_usage_error(tmp_path: Path, content: str | None) -> None:
    script = tmp_path / "replies.json"
    if content is not None:
        script.write_text(content)
    with pytest.raises(ProviderError) as caught:
        provider_for(f"scripted:{script}")
    assert caught.value.usage_error


# --- specs and prices -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec", ["gpt-4o", "openia:gpt-4o", "openai:", "anthropic:  ", ":gpt-4o", "replay:"]
)
def test_provider_for_rejects_bad_specs(spec: str) -> None:
    with pytest.raises(ProviderError) as caught:
        provider_for(spec, keys={"openai": KEY, "anthropic": KEY})
    assert caught.value.usage_error and "\n" not in str(caught.value)


def test_compatible_needs_a_base_url() -> None:
    with pytest.raises(ProviderError, match="base URL") as caught:
        provider_for("openai-compatible:llama3")
    assert caught.value.usage_error


def test_prices() -> None:
    assert price_for("gpt-4o-2024-08-06") == Price(2.5, 10.0)
    assert price_for("claude-sonnet-4-5-20250929") == Price(3.0, 15.0)
    assert price_for("some-local-model") is None
    assert cost_usd("some-local-model", 10, 10) is None
    assert cost_usd("gpt-4o", 1_000_000, 0, {"gpt-4o": (1.0, 2.0)}) == pytest.approx(1.0)
    assert cost_usd("gpt-4o", 10, 10, builtin=False) is None


def test_request_validation() -> None:
    with pytest.raises(ValueError):
        Request(messages=())
    with pytest.raises(ValueError):
        Message("system", "x")  # type: ignore[arg-type]


# --- live (needs a real key) ----------------------------------------------------------------


@pytest.mark.live
@pytest.mark.skipif(
    not os.environ.get("OPENAI_API_KEY_LIVE"),
    reason="set OPENAI_API_KEY_LIVE to call the real OpenAI API",
)
def test_live_openai() -> None:
    provider = provider_for(
        "openai:gpt-4o-mini", keys={"openai": os.environ["OPENAI_API_KEY_LIVE"]}
    )
    reply = provider.complete(Request.of("Answer with the single word: ready", max_tokens=16))
    assert reply.text.strip() and reply.prompt_tokens > 0 and reply.cost_usd is not None


@pytest.mark.live
@pytest.mark.skipif(
    not os.environ.get("ANTHROPIC_API_KEY_LIVE"),
    reason="set ANTHROPIC_API_KEY_LIVE to call the real Anthropic API",
)
def test_live_anthropic() -> None:
    provider = provider_for(
        "anthropic:claude-haiku-4-5", keys={"anthropic": os.environ["ANTHROPIC_API_KEY_LIVE"]}
    )
    reply = provider.complete(Request.of("Answer with the single word: ready", max_tokens=16))
    assert reply.text.strip() and reply.prompt_tokens > 0 and reply.cost_usd is not None
