"""Wire shapes built with the providers' own SDKs, and the SDKs' own readers as the oracle.

Every body and stream here is made of the official SDKs' types (openai's ChatCompletion,
ChatCompletionChunk, Response and its stream events; anthropic's Message,
RawMessageStreamEvent and MessageDeltaUsage; runware's IText and ITextInferenceUsage), with
hypothesis choosing every optional and nullable field, and serialised as their servers send
them: ``model_dump(mode="json")`` with its nulls, without them, or with only the fields set;
streams as ``text/event-stream`` bodies (``event:`` lines for Anthropic and Responses,
``data:`` lines, ``data: [DONE]`` for chat). What a stream adds up to is what each SDK makes
of the same bytes: openai's SSE decoder with ChatCompletionStreamState or
ResponseStreamState, anthropic's SSE decoder with accumulate_event (MessageStream's
accumulation), and runware's own stream reader, run against a real HTTP server on 127.0.0.1.
For every generated record ratecard's status and token counts must equal what the SDK read,
in the gateway-log form and, for bodies, as raw bodies; and its bill must follow from them.

The shapes come from the installed SDKs, not from JSON written here: a new release is one
``uv lock --upgrade`` away from being tested. Where ratecard decides what the SDK does not
(a stream cut before its usage is a failed call; a finished stream without usage is a
successful call without a price), the rule is the README's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import duckdb
import pytest
import runware.utils
from anthropic._streaming import SSEDecoder as AnthropicSSEDecoder
from anthropic.lib.streaming._messages import accumulate_event
from anthropic.types import (
    CacheCreation,
    Message,
    MessageDeltaUsage,
    OutputTokensDetails,
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawContentBlockStopEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    RawMessageStopEvent,
    RawMessageStreamEvent,
    TextBlock,
    TextDelta,
    Usage,
)
from anthropic.types.raw_message_delta_event import Delta
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openai import omit
from openai._streaming import SSEDecoder as OpenAISSEDecoder
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.lib.streaming.responses import ResponseStreamState
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice
from openai.types.chat.chat_completion_chunk import Choice as ChunkChoice
from openai.types.chat.chat_completion_chunk import ChoiceDelta
from openai.types.completion_usage import (
    CompletionTokensDetails,
    CompletionUsage,
    PromptTokensDetails,
)
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseErrorEvent,
    ResponseFailedEvent,
    ResponseIncompleteEvent,
    ResponseInProgressEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseStreamEvent,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
    ResponseUsage,
)
from openai.types.responses.response import IncompleteDetails
from openai.types.responses.response_error import ResponseError
from openai.types.responses.response_usage import InputTokensDetails
from openai.types.responses.response_usage import OutputTokensDetails as ResponsesOutputDetails
from pydantic import BaseModel, TypeAdapter
from runware.server import RunwareServer
from runware.types import (
    IText,
    ITextInference,
    ITextInferenceCompletionTokensDetails,
    ITextInferenceMessage,
    ITextInferenceUsage,
)

from conftest import TEST_SHEETS
from ingest.prices import load_prices
from ingest.usage import UsageFormat, ingest_usage
from warehouse import connect

CREATED = 1790856000  # 2026-10-01T12:00:00Z
TS = "2026-10-01T12:00:00Z"
MODEL = "tm-1"  # testgw's model (tests/data/price_sheets/testgw.csv)
NO_USAGE = "successful call without token usage: cannot be billed"
CUT = "stream ended before usage"
ID = "@ID@"  # replaced by an id unique to the run, in the serialised record

Tokens = tuple[int, int, int, int, int, int]
"""input (all of it), cache read, cache write, of which 1-hour, output (all), reasoning"""
NONE: Tokens = (0, 0, 0, 0, 0, 0)


@dataclass(frozen=True)
class Outcome:
    """What one call of a record must become."""

    status: Literal["ok", "failed", "quarantined"]
    tokens: Tokens = NONE
    error_type: str | None = None
    no_usage: bool = False
    """ok, but the stream carried no usage: loaded without a price"""
    reason: str | None = None
    """why it is quarantined"""
    reported_cost: Decimal | None = None


def quarantined(reason: str) -> Outcome:
    return Outcome("quarantined", reason=reason)


@dataclass(frozen=True)
class Record:
    """One record as a gateway logs it; ``body`` is the response body alone (raw-body form)
    when the call was not streamed."""

    surface: Literal["chat", "responses", "anthropic", "runware"]
    envelope: dict[str, Any]
    body: dict[str, Any] | None = None


# --- serialising as the servers do ------------------------------------------------------


def strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


SERIALISED = st.sampled_from(["as dumped", "without nulls", "only what was set"])


def dump(model: BaseModel, how: str) -> dict[str, Any]:
    """A pydantic SDK object as JSON: with the nulls model_dump writes, without them, or
    with only the fields its maker set."""
    return model.model_dump(
        mode="json", exclude_none=how == "without nulls", exclude_unset=how == "only what was set"
    )


def dump_dataclass(value: Any, how: str) -> dict[str, Any]:
    """A runware SDK dataclass as JSON (its SDK reads nulls and absent fields alike)."""
    data: dict[str, Any] = dataclasses.asdict(value)
    return data if how == "as dumped" else strip_nulls(data)


def event_stream(events: Sequence[tuple[str | None, str]]) -> str:
    """A text/event-stream body: each event an optional `event:` line, a `data:` line and a
    blank line."""
    return "".join(
        (f"event: {name}\n" if name else "") + f"data: {data}\n\n" for name, data in events
    )


def envelope(**body: Any) -> dict[str, Any]:
    return {
        "ts": TS,
        "provider": "testgw",
        "model": MODEL,
        "team": "search",
        "project": "ranker",
        "api_key": "sk-test-1",
        "status_code": 200,
        **body,
    }


def ended(draw: st.DrawFn, events: list[tuple[str | None, str]], done: str | None) -> str:
    """The stream as sent whole (with `done`, the end-of-stream line, if any), or cut short
    (after some events, or inside one), as a dropped connection leaves it."""
    how = draw(st.sampled_from(["whole", "whole", "cut", "cut inside an event"]))
    if how == "whole":
        return event_stream(events + ([(None, done)] if done else []))
    keep = draw(st.integers(1, len(events)))
    text = event_stream(events[:keep])
    if how == "cut inside an event" and keep < len(events):
        following = event_stream(events[keep : keep + 1])
        text += following[: draw(st.integers(1, len(following) - 3))]
    return text


counts = st.integers(0, 300_000)
finish_reasons = st.sampled_from(["stop", "length", "tool_calls", "content_filter"])


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


# --- OpenAI Chat Completions ------------------------------------------------------------


@st.composite
def chat_usages(draw: st.DrawFn) -> CompletionUsage:
    prompt, completion = draw(counts), draw(counts)
    prompt_details = None
    if draw(st.booleans()):
        cached = draw(optional(st.integers(0, prompt)))
        written = draw(optional(st.integers(0, prompt - (cached or 0))))
        prompt_details = PromptTokensDetails(
            cached_tokens=cached, cache_write_tokens=written, audio_tokens=draw(optional(counts))
        )
    completion_details = None
    if draw(st.booleans()):
        completion_details = CompletionTokensDetails(
            reasoning_tokens=draw(optional(st.integers(0, completion))),
            accepted_prediction_tokens=draw(optional(counts)),
            rejected_prediction_tokens=draw(optional(counts)),
        )
    return CompletionUsage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=prompt + completion,
        prompt_tokens_details=prompt_details,
        completion_tokens_details=completion_details,
    )


def chat_tokens(usage: CompletionUsage) -> Tokens:
    prompt, completion = usage.prompt_tokens_details, usage.completion_tokens_details
    return (
        usage.prompt_tokens,
        (prompt.cached_tokens or 0) if prompt else 0,
        (prompt.cache_write_tokens or 0) if prompt else 0,
        0,
        usage.completion_tokens,
        (completion.reasoning_tokens or 0) if completion else 0,
    )


@st.composite
def chat_bodies(draw: st.DrawFn) -> Record:
    completion = ChatCompletion(
        id=f"{ID}chat",
        object="chat.completion",
        created=CREATED,
        model=MODEL,
        choices=[
            Choice(
                index=0,
                finish_reason=draw(finish_reasons),
                message=ChatCompletionMessage(role="assistant", content="Hi"),
            )
        ],
        usage=draw(optional(chat_usages())),
        service_tier=draw(optional(st.just("default"))),
        system_fingerprint=draw(optional(st.just("fp_1"))),
    )
    body = dump(completion, draw(SERIALISED))
    return Record("chat", envelope(response=body), body)


@st.composite
def chat_streams(draw: st.DrawFn) -> Record:
    """Content chunks, a chunk with the finish_reason, the usage chunk (`"choices": []`)
    when the client asked for stream_options.include_usage, then [DONE]."""
    head: dict[str, Any] = {
        "id": f"{ID}chat",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
    }
    include_usage = draw(st.booleans())
    chunks = [
        ChatCompletionChunk(
            **head,
            choices=[
                ChunkChoice(
                    index=0,
                    delta=ChoiceDelta(role="assistant" if i == 0 else None, content="Hi"),
                    finish_reason=None,
                )
            ],
            usage=None,
        )
        for i in range(draw(st.integers(1, 3)))
    ]
    if draw(st.booleans()):  # some gateways drop the finish chunk
        chunks.append(
            ChatCompletionChunk(
                **head,
                choices=[
                    ChunkChoice(index=0, delta=ChoiceDelta(), finish_reason=draw(finish_reasons))
                ],
            )
        )
    if include_usage:
        chunks.append(ChatCompletionChunk(**head, choices=[], usage=draw(chat_usages())))
    how = draw(SERIALISED)
    events: list[tuple[str | None, str]] = [(None, json.dumps(dump(c, how))) for c in chunks]
    if draw(st.integers(0, 5)) == 0:  # the server's error event ends it
        error = {"error": {"message": "upstream died", "type": "server_error", "code": None}}
        events = [*events[: draw(st.integers(1, len(events)))], (None, json.dumps(error))]
    return Record("chat", envelope(sse=ended(draw, events, "[DONE]")))


def read_chat_stream(sse: str) -> Outcome:
    """The stream as the openai SDK reads it: its SSE decoder, [DONE], an `error` event
    raising, and ChatCompletionStreamState accumulating the chunks."""
    state = ChatCompletionStreamState()
    done = started = False
    for sse_event in OpenAISSEDecoder().iter_bytes(iter([sse.encode()])):
        if sse_event.data.startswith("[DONE]"):
            done = True
            break
        try:
            data = sse_event.json()
        except ValueError:
            break  # a cut connection
        if data.get("error"):
            error = data["error"]
            return Outcome("failed", error_type=error.get("type") or error.get("code") or "error")
        state.handle_chunk(ChatCompletionChunk.model_validate(data))
        started = True
    snapshot = state.current_completion_snapshot if started else None
    if snapshot is not None and snapshot.usage is not None:
        return Outcome("ok", chat_tokens(snapshot.usage))
    finished = done or any(c.finish_reason for c in (snapshot.choices if snapshot else []))
    return Outcome("ok", no_usage=True) if finished else Outcome("failed", error_type=CUT)


# --- OpenAI Responses -------------------------------------------------------------------


@st.composite
def response_usages(draw: st.DrawFn) -> ResponseUsage:
    given_input, output = draw(counts), draw(counts)
    cached = draw(st.integers(0, given_input))
    return ResponseUsage(
        input_tokens=given_input,
        input_tokens_details=InputTokensDetails(
            cached_tokens=cached, cache_write_tokens=draw(st.integers(0, given_input - cached))
        ),
        output_tokens=output,
        output_tokens_details=ResponsesOutputDetails(reasoning_tokens=draw(st.integers(0, output))),
        total_tokens=given_input + output,
    )


def responses_tokens(usage: ResponseUsage) -> Tokens:
    details = usage.input_tokens_details
    return (
        usage.input_tokens,
        details.cached_tokens,
        details.cache_write_tokens,
        0,
        usage.output_tokens,
        usage.output_tokens_details.reasoning_tokens,
    )


def response(status: str | None, usage: ResponseUsage | None, **extra: Any) -> Response:
    return Response.model_validate(
        {
            "id": f"{ID}resp",
            "object": "response",
            "created_at": CREATED,
            "model": MODEL,
            "output": [],
            "parallel_tool_calls": False,
            "tool_choice": "auto",
            "tools": [],
            "status": status,
            "usage": None if usage is None else usage.model_dump(),
            **extra,
        }
    )


def final_response_fields(draw: st.DrawFn, status: str | None) -> dict[str, Any]:
    if status == "failed" and draw(st.booleans()):
        return {"error": ResponseError(code="server_error", message="boom").model_dump()}
    if status == "incomplete":
        return {"incomplete_details": IncompleteDetails(reason="max_output_tokens").model_dump()}
    return {}


@st.composite
def responses_bodies(draw: st.DrawFn) -> Record:
    status = draw(st.sampled_from(["completed", "incomplete", "failed", "cancelled", None]))
    body = dump(
        response(status, draw(optional(response_usages())), **final_response_fields(draw, status)),
        draw(SERIALISED),
    )
    return Record("responses", envelope(response=body), body)


def responses_outcome(final: Response) -> Outcome:
    tokens = NONE if final.usage is None else responses_tokens(final.usage)
    if final.status in ("failed", "cancelled"):
        code = final.error.code if final.error else f"response {final.status}"
        return Outcome("failed", tokens, error_type=code)
    return Outcome("ok", tokens) if final.usage is not None else quarantined(NO_USAGE)


@st.composite
def responses_streams(draw: st.DrawFn) -> Record:
    """response.created, response.in_progress, a message's output events, then
    response.completed, .incomplete, .failed or an `error` event."""
    sequence = itertools.count()
    events: list[BaseModel] = [
        ResponseCreatedEvent(
            type="response.created",
            sequence_number=next(sequence),
            response=response("in_progress", None),
        ),
        ResponseInProgressEvent(
            type="response.in_progress",
            sequence_number=next(sequence),
            response=response("in_progress", None),
        ),
    ]
    output: list[dict[str, Any]] = []
    if draw(st.booleans()):
        item = {"id": "msg_1", "role": "assistant", "type": "message"}
        text = ResponseOutputText(annotations=[], text="Hi", type="output_text")
        empty = ResponseOutputText(annotations=[], text="", type="output_text")
        done = ResponseOutputMessage(**item, content=[text], status="completed")
        where = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
        events += [
            ResponseOutputItemAddedEvent(
                type="response.output_item.added",
                sequence_number=next(sequence),
                output_index=0,
                item=ResponseOutputMessage(**item, content=[], status="in_progress"),
            ),
            ResponseContentPartAddedEvent(
                type="response.content_part.added",
                sequence_number=next(sequence),
                part=empty,
                **where,
            ),
            ResponseTextDeltaEvent(
                type="response.output_text.delta",
                sequence_number=next(sequence),
                delta="Hi",
                logprobs=[],
                **where,
            ),
            ResponseTextDoneEvent(
                type="response.output_text.done",
                sequence_number=next(sequence),
                text="Hi",
                logprobs=[],
                **where,
            ),
            ResponseContentPartDoneEvent(
                type="response.content_part.done",
                sequence_number=next(sequence),
                part=text,
                **where,
            ),
            ResponseOutputItemDoneEvent(
                type="response.output_item.done",
                sequence_number=next(sequence),
                output_index=0,
                item=done,
            ),
        ]
        output = [done.model_dump()]
    final = draw(st.sampled_from(["completed", "completed", "incomplete", "failed", "error"]))
    usage = draw(optional(response_usages()))
    fields = {"output": output, **final_response_fields(draw, final)}
    if final == "completed":
        events.append(
            ResponseCompletedEvent(
                type="response.completed",
                sequence_number=next(sequence),
                response=response("completed", usage, **fields),
            )
        )
    elif final == "incomplete":
        events.append(
            ResponseIncompleteEvent(
                type="response.incomplete",
                sequence_number=next(sequence),
                response=response("incomplete", usage, **fields),
            )
        )
    elif final == "failed":
        events.append(
            ResponseFailedEvent(
                type="response.failed",
                sequence_number=next(sequence),
                response=response("failed", usage, **fields),
            )
        )
    else:
        events.append(
            ResponseErrorEvent(
                type="error",
                sequence_number=next(sequence),
                code=draw(optional(st.just("rate_limit_exceeded"))),
                message="slow down",
                param=None,
            )
        )
    how = draw(SERIALISED)
    dumped = [dump(e, how) for e in events]
    sse = ended(draw, [(data["type"], json.dumps(data)) for data in dumped], None)
    return Record("responses", envelope(sse=sse))


RESPONSE_EVENT: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)


def read_responses_stream(sse: str) -> Outcome:
    """As the openai SDK reads it: its SSE decoder and ResponseStreamState, whose
    response.completed (or .incomplete, .failed) event carries the final response."""
    state = ResponseStreamState(input_tools=omit, text_format=omit)
    final: Response | None = None
    for sse_event in OpenAISSEDecoder().iter_bytes(iter([sse.encode()])):
        try:
            data = sse_event.json()
        except ValueError:
            break
        for out in state.handle_event(RESPONSE_EVENT.validate_python(data)):
            if out.type == "error":
                return Outcome("failed", error_type=out.code or "error")
            if out.type in ("response.completed", "response.incomplete", "response.failed"):
                final = out.response
    if final is None:
        return Outcome("failed", error_type=CUT)
    if final.usage is None and final.status != "failed":
        return Outcome("ok", no_usage=True)
    return responses_outcome(final)


# --- Anthropic Messages -----------------------------------------------------------------


@st.composite
def anthropic_usages(draw: st.DrawFn, output: int | None = None) -> Usage:
    lifetimes = draw(optional(st.tuples(counts, counts)))
    written = draw(optional(st.just(sum(lifetimes)) if lifetimes else counts))
    out = draw(counts) if output is None else output
    return Usage(
        input_tokens=draw(counts),
        output_tokens=out,
        cache_read_input_tokens=draw(optional(counts)),
        cache_creation_input_tokens=written,
        cache_creation=None
        if lifetimes is None
        else CacheCreation(
            ephemeral_5m_input_tokens=lifetimes[0], ephemeral_1h_input_tokens=lifetimes[1]
        ),
        output_tokens_details=draw(
            optional(st.builds(OutputTokensDetails, thinking_tokens=st.integers(0, out)))
        ),
        service_tier=draw(optional(st.sampled_from(["standard", "priority", "batch"]))),
        inference_geo=draw(optional(st.just("us"))),
        speed=draw(optional(st.sampled_from(["standard", "fast"]))),
    )


def anthropic_tokens(usage: Usage) -> Tokens:
    lifetimes = usage.cache_creation
    written = usage.cache_creation_input_tokens
    if written is None:
        written = (
            0
            if lifetimes is None
            else lifetimes.ephemeral_5m_input_tokens + lifetimes.ephemeral_1h_input_tokens
        )
    read = usage.cache_read_input_tokens or 0
    details = usage.output_tokens_details
    return (
        usage.input_tokens + read + written,  # Anthropic's input_tokens leaves the cache out
        read,
        written,
        lifetimes.ephemeral_1h_input_tokens if lifetimes else 0,
        usage.output_tokens,
        details.thinking_tokens if details else 0,
    )


def message(usage: Usage, stop: str | None, content: list[TextBlock]) -> Message:
    return Message(
        id=f"{ID}msg",
        type="message",
        role="assistant",
        model=MODEL,
        content=content,
        stop_reason=stop,
        stop_sequence=None,
        usage=usage,
    )


stop_reasons = st.sampled_from(["end_turn", "max_tokens", "stop_sequence", "tool_use"])


@st.composite
def anthropic_bodies(draw: st.DrawFn) -> Record:
    body = dump(
        message(
            draw(anthropic_usages()),
            draw(optional(stop_reasons)),
            [TextBlock(type="text", text="Hi")],
        ),
        draw(SERIALISED),
    )
    return Record("anthropic", envelope(response=body), body)


@st.composite
def anthropic_streams(draw: st.DrawFn) -> Record:
    """message_start, pings, a text block, one or two message_delta events whose usage
    holds the SDK's MessageDeltaUsage (cumulative counts, nulls for those not sent), then
    message_stop; or an `error` event."""
    start = draw(anthropic_usages(output=draw(st.integers(0, 5))))
    written = anthropic_tokens(start)[2]
    how = draw(SERIALISED)
    block = TextBlock(type="text", text="")
    events: list[tuple[str | None, str]] = [
        ("message_start", json.dumps(dump(RawMessageStartEvent(
            type="message_start", message=message(start, None, [])), how))),
        ("content_block_start", json.dumps(dump(RawContentBlockStartEvent(
            type="content_block_start", index=0, content_block=block), how))),
    ]  # fmt: skip
    if draw(st.booleans()):
        events.append(("ping", json.dumps({"type": "ping"})))
    for _ in range(draw(st.integers(1, 2))):
        events.append(("content_block_delta", json.dumps(dump(RawContentBlockDeltaEvent(
            type="content_block_delta", index=0, delta=TextDelta(type="text_delta", text="Hi")),
            how))))  # fmt: skip
    events.append(("content_block_stop", json.dumps(dump(RawContentBlockStopEvent(
        type="content_block_stop", index=0), how))))  # fmt: skip
    output = start.output_tokens
    deltas = draw(st.integers(1, 2))
    for number in range(deltas):
        output += draw(st.integers(0, 5000))
        usage = MessageDeltaUsage(
            output_tokens=output,
            input_tokens=draw(optional(counts)),
            cache_read_input_tokens=draw(optional(counts)),
            # a cumulative count: the one message_start gave, or none
            cache_creation_input_tokens=draw(optional(st.just(written))),
            output_tokens_details=draw(
                optional(st.builds(OutputTokensDetails, thinking_tokens=st.integers(0, output)))
            ),
        )
        last = number == deltas - 1
        delta = Delta(stop_reason=draw(stop_reasons) if last else None, stop_sequence=None)
        event = RawMessageDeltaEvent(type="message_delta", delta=delta, usage=usage)
        events.append(("message_delta", json.dumps(dump(event, how))))
    events.append(("message_stop", json.dumps(dump(RawMessageStopEvent(type="message_stop"), how))))
    if draw(st.integers(0, 5)) == 0:
        error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        events = [*events[: draw(st.integers(1, len(events)))], ("error", json.dumps(error))]
    return Record("anthropic", envelope(sse=ended(draw, events, None)))


STREAM_EVENT: TypeAdapter[Any] = TypeAdapter(RawMessageStreamEvent)


def read_anthropic_stream(sse: str) -> Outcome:
    """As the anthropic SDK reads it: its SSE decoder (pings and unnamed events skipped, an
    `error` event raising) and accumulate_event, MessageStream's accumulation."""
    snapshot: Any = None
    delta_or_stop = False
    for sse_event in AnthropicSSEDecoder().iter_bytes(iter([sse.encode()])):
        if sse_event.event in ("ping", None):
            continue
        if sse_event.event == "error":
            return Outcome("failed", error_type=sse_event.json()["error"]["type"])
        try:
            data = sse_event.json()
        except ValueError:
            break
        parsed = STREAM_EVENT.validate_python(data)
        snapshot = accumulate_event(event=parsed, current_snapshot=snapshot, json_bufs={})
        delta_or_stop = delta_or_stop or parsed.type in ("message_delta", "message_stop")
    if snapshot is None or not delta_or_stop:
        return Outcome("failed", error_type=CUT)
    return Outcome("ok", anthropic_tokens(snapshot.usage))


# --- Runware tasks ----------------------------------------------------------------------


@st.composite
def runware_usages(draw: st.DrawFn) -> ITextInferenceUsage:
    prompt, completion = draw(optional(counts)), draw(optional(counts))
    thinking = draw(optional(counts))
    total = None
    if prompt is not None and completion is not None:
        inside = draw(st.booleans())
        if inside and thinking is not None:
            thinking = min(thinking, completion)  # inside completionTokens
        total = draw(optional(st.just(prompt + completion + (0 if inside else thinking or 0))))
    details = draw(optional(st.builds(
        ITextInferenceCompletionTokensDetails,
        reasoningTokens=optional(st.integers(0, completion or 0)))))  # fmt: skip
    return ITextInferenceUsage(
        promptTokens=prompt,
        completionTokens=completion,
        totalTokens=total,
        thinkingTokens=thinking,
        completionTokensDetails=details,
    )


def runware_outcome(result: IText) -> Outcome:
    """A result as its SDK holds it: thinking tokens are output on top of completionTokens
    when totalTokens counts them so, and the reasoning count (else the details')."""
    usage = result.usage
    cost = None if result.cost is None else Decimal(repr(result.cost))
    if usage is None or usage.promptTokens is None or usage.completionTokens is None:
        return Outcome("quarantined", reason=NO_USAGE)
    prompt, completion, thinking = usage.promptTokens, usage.completionTokens, usage.thinkingTokens
    on_top = thinking is not None and usage.totalTokens == prompt + completion + thinking
    details = usage.completionTokensDetails
    reasoning = thinking if thinking is not None else (details.reasoningTokens if details else None)
    output = completion + (thinking or 0) if on_top else completion
    if (reasoning or 0) > output:
        return quarantined(f"reasoning tokens ({reasoning}) exceed output tokens ({output})")
    return Outcome("ok", (prompt, 0, 0, 0, output, reasoning or 0), reported_cost=cost)


costs = st.decimals(Decimal("0.000001"), Decimal("0.5"), places=7).map(float)


def runware_result(draw: st.DrawFn, uuid: str, finish: bool = True) -> IText:
    return IText(
        taskType="textInference",
        taskUUID=uuid,
        text="Hi",
        finishReason="stop" if finish else None,
        usage=draw(optional(runware_usages())),
        cost=draw(optional(costs)),
        status=draw(optional(st.just("success"))),
    )


@st.composite
def runware_bodies(draw: st.DrawFn) -> Record:
    """`{"data": [...]}` with numberResults results of one task, maybe an `errors` list (a
    wire shape the SDK turns into its own IError), maybe the envelope's call_id."""
    how = draw(SERIALISED)
    results = [runware_result(draw, f"{ID}task") for _ in range(draw(st.integers(1, 4)))]
    body: dict[str, Any] = {"data": [dump_dataclass(r, how) for r in results]}
    if draw(st.integers(0, 3)) == 0:
        body["errors"] = [{"code": "timeout", "message": "x", "taskUUID": f"{ID}err"}]
    extra = {"call_id": f"{ID}gw"} if draw(st.booleans()) else {}
    return Record("runware", envelope(response=body, **extra), body)


@st.composite
def runware_streams(draw: st.DrawFn) -> Record:
    """Text chunks, the result with its finishReason (usage and cost when the task asked for
    them), [DONE]; each chunk maybe wrapped as {"data": chunk}, which the SDK reads too."""
    how = draw(SERIALISED)
    wrap = draw(st.booleans())
    uuid = f"{ID}task"
    chunks: list[dict[str, Any]] = [
        {"taskType": "textInference", "taskUUID": uuid, "delta": {"text": "H"}}
        for _ in range(draw(st.integers(1, 2)))
    ]
    # the result ends the SDK's reading: an error chunk comes instead of it, not after
    end = draw(st.sampled_from(["result", "result", "result", "error", "nothing"]))
    if end == "result":
        chunks.append(dump_dataclass(runware_result(draw, uuid), how))
    elif end == "error":
        chunks.append({"error": {"code": "timeout", "message": "upstream died"}})
    events: list[tuple[str | None, str]] = [
        (None, json.dumps({"data": c} if wrap else c)) for c in chunks
    ]
    extra = {"call_id": f"{ID}gw"} if draw(st.booleans()) else {}
    return Record("runware", envelope(sse=ended(draw, events, "[DONE]"), **extra))


class _Stream(BaseHTTPRequestHandler):
    body = b""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(type(self).body)))
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def runware_sdk() -> Iterator[Callable[[str], Outcome]]:
    """The runware SDK's own stream reader (``_requestTextStream``) against a real HTTP
    server on 127.0.0.1 that answers with the stream under test."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ws = f"ws://127.0.0.1:{server.server_port}/v1"
    with pytest.MonkeyPatch.context() as patch:
        # the SDK posts streams to the HTTP URL its table gives for the websocket URL
        patch.setitem(runware.utils._WS_TO_HTTP, ws, f"http://127.0.0.1:{server.server_port}/v1")
        sdk = RunwareServer(api_key="test-key", url=ws)

        async def read() -> list[object]:
            request = ITextInference(
                model="minimax:m3@0",
                messages=[ITextInferenceMessage(role="user", content="Hi")],
                deliveryMethod="stream",
            )
            return [item async for item in sdk._requestTextStream(request)]

        def outcome(sse: str) -> Outcome:
            _Stream.body = sse.encode()
            try:
                items = asyncio.run(read())
            except runware.utils.RunwareAPIError as error:
                return Outcome("failed", error_type=error.code)
            results = [i for i in items if isinstance(i, IText)]
            if results and results[-1].usage is None:
                # a finished result without usage (includeUsage not asked): no price
                cost = results[-1].cost
                return Outcome(
                    "ok", no_usage=True, reported_cost=None if cost is None else Decimal(repr(cost))
                )
            if results:
                return runware_outcome(results[-1])
            # no result: a normal end ([DONE]) without one is a call without usage
            return (
                Outcome("ok", no_usage=True)
                if "[DONE]" in sse
                else Outcome("failed", error_type=CUT)
            )

        yield outcome
    server.shutdown()
    server.server_close()


# --- the oracle for each record ---------------------------------------------------------


def expected_calls(
    record: Record, read_runware: Callable[[str], Outcome], raw: bool
) -> dict[int, tuple[str | None, Outcome]]:
    """Each call of the record by its item number, with its id and outcome, as the SDK
    reads it; for raw bodies, as ratecard reads a body without an envelope."""
    response, sse = record.envelope.get("response"), record.envelope.get("sse")
    env_id = None if raw else record.envelope.get("call_id")
    if sse is not None and not readable(sse):
        return {0: (None, quarantined("sse holds no readable data events (not an event "
                                      "stream, or every event is broken)"))}  # fmt: skip
    if record.surface == "runware":
        items = runware_items(record, read_runware, sse)
        numbered = env_id is not None and len(items) > 1
        return {
            i: (
                f"{env_id}:{i + 1}" if numbered else env_id or call_id,
                quarantined("missing ts") if raw else outcome,
            )
            for i, (call_id, outcome) in enumerate(items)
        }
    if sse is not None:
        reader = {"chat": read_chat_stream, "responses": read_responses_stream,
                  "anthropic": read_anthropic_stream}[record.surface]  # fmt: skip
        found = reader(sse)
        call_id = {"chat": f"{ID}chat", "responses": f"{ID}resp", "anthropic": f"{ID}msg"}
        return {0: (call_id[record.surface], found)}
    assert response is not None
    if record.surface == "chat":
        parsed = ChatCompletion.model_validate(response)
        found = Outcome("ok", chat_tokens(parsed.usage)) if parsed.usage else quarantined(NO_USAGE)
        return {0: (parsed.id, found)}
    if record.surface == "responses":
        final = Response.model_validate(response)
        return {0: (final.id, responses_outcome(final))}
    parsed_message = Message.model_validate(response)
    # an Anthropic body carries no time: without its envelope it cannot be billed
    found = (
        quarantined("missing ts") if raw else Outcome("ok", anthropic_tokens(parsed_message.usage))
    )
    return {0: (parsed_message.id, found)}


def readable(sse: str) -> bool:
    """Whether any `data:` line of the stream holds a JSON object."""
    for line in sse.splitlines():
        if line.startswith("data:"):
            try:
                if isinstance(json.loads(line[5:]), dict):
                    return True
            except ValueError:
                continue
    return False


def runware_items(
    record: Record, read_runware: Callable[[str], Outcome], sse: str | None
) -> list[tuple[str, Outcome]]:
    if sse is not None:
        return [(f"{ID}task", read_runware(sse))]
    body = record.envelope["response"]
    results = [runware.utils.instantiateDataclass(IText, item) for item in body["data"]]
    many = len(results) > 1
    items = [
        (f"{r.taskUUID}:{i + 1}" if many else r.taskUUID, runware_outcome(r))
        for i, r in enumerate(results)
    ]
    for error in body.get("errors", []):
        items.append((error["taskUUID"], Outcome("failed", error_type=error["code"])))
    return items


# --- ingest and compare -----------------------------------------------------------------


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """One warehouse for every example (the ids are unique per run), with the test sheets:
    testgw bills per 1K at input 0.500, cache read 0.050, cache write 0.625 (1-hour writes
    too: it has no rate of their own), output 2.000 and 0.0015 a call, failures included."""
    con = connect(tmp_path_factory.mktemp("sdk") / "warehouse.duckdb")
    load_prices(con, [TEST_SHEETS])
    yield con
    con.close()


RUNS = itertools.count()


def bill_at_testgw(tokens: Tokens) -> Decimal:
    given_input, read, written, _, output, _ = tokens
    per_1k = Decimal("0.001")
    return (
        (given_input - read - written) * Decimal("0.500") * per_1k
        + read * Decimal("0.050") * per_1k
        + written * Decimal("0.625") * per_1k
        + output * Decimal("2.000") * per_1k
        + Decimal("0.0015")
    )


def ingested_as_the_sdks_read(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    records: Sequence[Record],
    read_runware: Callable[[str], Outcome],
    *,
    raw: bool = False,
) -> None:
    run = next(RUNS)
    lines, expected = [], {}
    for number, record in enumerate(records, start=1):
        prefix = f"r{run}-{number}-"
        payload = record.body if raw else record.envelope
        assert payload is not None
        lines.append(json.dumps(payload).replace(ID, prefix))
        for item, (call_id, outcome) in expected_calls(record, read_runware, raw).items():
            expected[(number, item)] = (
                None if call_id is None else call_id.replace(ID, prefix),
                outcome,
            )
    path = folder / f"run-{run}.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fmt = UsageFormat.RAW_BODY if raw else UsageFormat.GATEWAY_LOG
    load = ingest_usage(con, path, fmt=fmt, provider="testgw" if raw else None)
    assert load.records_read == len(expected), (load, expected)

    actual: dict[tuple[int, int], tuple[str | None, Outcome]] = {}
    for (
        line,
        item,
        call_id,
        status,
        *counts_,
        error_type,
        no_usage,
        cost,
        unpriced,
        total,
    ) in con.execute(
        "SELECT source_line, source_item, call_id, status, input_tokens, cache_read_tokens, "
        "cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, "
        "error_type, no_usage_reason, reported_cost, unpriced_reason, total_cost "
        "FROM calls_costed WHERE batch_id = $batch",
        {"batch": load.batch_id},
    ).fetchall():
        tokens: Tokens = tuple(int(n) for n in counts_)  # type: ignore[assignment]
        if no_usage is not None:
            assert no_usage.startswith("stream carried no usage: ") and unpriced == no_usage
            assert total is None  # never $0
        else:
            assert total == bill_at_testgw(tokens), (call_id, tokens, total)
        actual[(line, item)] = (
            call_id,
            Outcome(status, tokens, error_type, no_usage is not None, None, cost),
        )
    for line, item, reason in con.execute(
        "SELECT source_line, source_item, reason FROM quarantine WHERE batch_id = $batch",
        {"batch": load.batch_id},
    ).fetchall():
        actual[(line, item)] = (None, quarantined(reason))
    # a quarantined call's id is not kept: compare on what is
    expected = {
        key: (None if outcome.status == "quarantined" else call_id, outcome)
        for key, (call_id, outcome) in expected.items()
    }
    assert actual == expected, "\n".join(lines)
    for (line, _), (_, outcome) in expected.items():
        kind = "no usage" if outcome.no_usage else outcome.status
        event(f"{'raw ' if raw else ''}{records[line - 1].surface}: {kind}")


# every ingest costs a second or two of fixed work: few examples of many records each
SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
bodies = st.one_of(chat_bodies(), responses_bodies(), anthropic_bodies(), runware_bodies())
streams = st.one_of(chat_streams(), responses_streams(), anthropic_streams(), runware_streams())


@SETTINGS
@given(records=st.lists(bodies, min_size=4, max_size=30))
def test_bodies_are_read_as_their_sdks_read_them(
    warehouse: duckdb.DuckDBPyConnection,
    tmp_path_factory: pytest.TempPathFactory,
    runware_sdk: Callable[[str], Outcome],
    records: list[Record],
) -> None:
    folder = tmp_path_factory.getbasetemp()
    ingested_as_the_sdks_read(warehouse, folder, records, runware_sdk)
    ingested_as_the_sdks_read(warehouse, folder, records, runware_sdk, raw=True)


@SETTINGS
@given(records=st.lists(streams, min_size=4, max_size=30))
def test_streams_add_up_to_what_their_sdks_accumulate(
    warehouse: duckdb.DuckDBPyConnection,
    tmp_path_factory: pytest.TempPathFactory,
    runware_sdk: Callable[[str], Outcome],
    records: list[Record],
) -> None:
    ingested_as_the_sdks_read(warehouse, tmp_path_factory.getbasetemp(), records, runware_sdk)
