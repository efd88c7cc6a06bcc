"""A fake OpenAI-compatible chat-completions server on 127.0.0.1, for the real provider path.

Scripted by model name: ``cand*`` answers a user turn with one call of ``tool_call`` (from
``app.state.script``) and a tool result with a short text; ``sim*`` (no tools in the request)
answers as a tool simulator with a JSON ``{"output", "is_error"}``; ``user*`` says ###STOP###.
Every request body is kept in ``app.state.requests``.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, Request


def _reply(content: str | None, calls: list[dict[str, Any]] | None, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = calls
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }


def make_app(script: dict[str, Any]) -> FastAPI:
    app = FastAPI()
    app.state.requests = []
    app.state.script = script

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> dict[str, Any]:
        body = await request.json()
        app.state.requests.append(body)
        model = body.get("model", "")
        last = body["messages"][-1]
        if model.startswith("sim"):
            return _reply(json.dumps(app.state.script["simulated"]), None, model)
        if model.startswith("user"):
            return _reply("Thanks, that's all. ###STOP###", None, model)
        if last["role"] == "tool":
            return _reply(f"Done. The tool said: {str(last['content'])[:60]}", None, model)
        name, args = app.state.script["tool_call"]
        n = len(app.state.requests)
        call = {
            "id": f"call_fake_{n}",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(args)},
        }
        return _reply(None, [call], model)

    return app


@contextmanager
def serve(script: dict[str, Any]) -> Iterator[tuple[str, FastAPI]]:
    """Serve the fake on a free loopback port; yield (base URL, app)."""
    app = make_app(script)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("fake OpenAI server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/v1", app
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
