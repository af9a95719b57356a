// The Anthropic <-> chat completions translation of `vbatch serve`, case by case: the parts the
// simulator never produces (tool calls, stop sequences, refusals) are checked here directly.
import { describe, expect, it } from "vitest";
import { chatToMessage, resultFor } from "../src/anthropic/reply.js";
import { anthropicToChat, TranslateError } from "../src/anthropic/request.js";

describe("Anthropic params -> chat completion body", () => {
  it("carries system, sampling, stop sequences and a plain conversation", () => {
    expect(
      anthropicToChat({
        model: "claude-haiku-4-5",
        max_tokens: 100,
        system: [
          { type: "text", text: "Be brief." },
          { type: "text", text: "Answer in French." },
        ],
        temperature: 0.2,
        top_p: 0.9,
        top_k: 40,
        stop_sequences: ["###"],
        metadata: { user_id: "u1" },
        messages: [
          { role: "user", content: "Hello" },
          { role: "assistant", content: [{ type: "text", text: "Bonjour" }] },
          { role: "user", content: [{ type: "text", text: "Again" }] },
        ],
      }),
    ).toEqual({
      model: "claude-haiku-4-5",
      max_tokens: 100,
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      stop: ["###"],
      messages: [
        { role: "system", content: "Be brief.\nAnswer in French." },
        { role: "user", content: "Hello" },
        { role: "assistant", content: "Bonjour" },
        { role: "user", content: "Again" },
      ],
    });
  });

  it("turns images into data URLs, tool_use into tool_calls and tool_result into tool messages", () => {
    const body = anthropicToChat({
      model: "m",
      max_tokens: 10,
      tools: [
        {
          name: "get_weather",
          description: "Weather for a city",
          input_schema: { type: "object", properties: { city: { type: "string" } } },
        },
      ],
      tool_choice: { type: "tool", name: "get_weather", disable_parallel_tool_use: true },
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0" } },
            { type: "image", source: { type: "url", url: "https://example.com/a.jpg" } },
            { type: "text", text: "Weather where this was taken?" },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "text", text: "Let me check." },
            { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "18C, sunny" }] },
            { type: "text", text: "Thanks" },
          ],
        },
      ],
    });
    expect(body.tools).toEqual([
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Weather for a city",
          parameters: { type: "object", properties: { city: { type: "string" } } },
        },
      },
    ]);
    expect(body.tool_choice).toEqual({ type: "function", function: { name: "get_weather" } });
    expect(body.parallel_tool_calls).toBe(false);
    expect(body.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0" } },
          { type: "image_url", image_url: { url: "https://example.com/a.jpg" } },
          { type: "text", text: "Weather where this was taken?" },
        ],
      },
      {
        role: "assistant",
        content: "Let me check.",
        tool_calls: [
          {
            id: "toolu_1",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Paris"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "toolu_1", content: "18C, sunny" },
      { role: "user", content: "Thanks" },
    ]);
  });

  it("maps tool_choice any/auto/none and structured output", () => {
    const base = { model: "m", max_tokens: 5, messages: [{ role: "user", content: "x" }] };
    expect(anthropicToChat({ ...base, tool_choice: { type: "any" } }).tool_choice).toBe("required");
    expect(anthropicToChat({ ...base, tool_choice: { type: "auto" } }).tool_choice).toBe("auto");
    expect(anthropicToChat({ ...base, tool_choice: { type: "none" } }).tool_choice).toBe("none");
    const schema = { type: "object", properties: { label: { type: "string" } } };
    expect(
      anthropicToChat({ ...base, output_config: { format: { type: "json_schema", schema } } }),
    ).toMatchObject({
      response_format: { type: "json_schema", json_schema: { name: "output", schema } },
    });
  });

  it("refuses what has no chat equivalent, naming the field", () => {
    const base = { model: "m", max_tokens: 5 };
    const fail = (p: unknown) => {
      try {
        anthropicToChat(p);
      } catch (err) {
        expect(err).toBeInstanceOf(TranslateError);
        return (err as Error).message;
      }
      throw new Error("accepted");
    };
    expect(fail({ ...base, messages: [] })).toMatch(/^messages: /);
    expect(fail({ model: "m", messages: [{ role: "user", content: "x" }] })).toMatch(/^max_tokens: /);
    expect(
      fail({ ...base, messages: [{ role: "user", content: [{ type: "document", source: {} }] }] }),
    ).toMatch(/^messages\.0\.content\.0\.type: "document" blocks are not supported/);
    expect(fail({ ...base, messages: [{ role: "system", content: "x" }] })).toMatch(/^messages\.0\.role/);
    expect(
      fail({
        ...base,
        messages: [{ role: "user", content: "x" }],
        tools: [{ type: "web_search_20250305", name: "w" }],
      }),
    ).toMatch(/^tools\.0: /);
    expect(fail({ ...base, stream: true, messages: [{ role: "user", content: "x" }] })).toMatch(/^stream/);
  });
});

describe("chat completion -> Anthropic Message and results", () => {
  const chat = (message: Record<string, unknown>, finish: string, stopReason: unknown = null) => ({
    id: "chatcmpl-abc123",
    object: "chat.completion",
    model: "qwen",
    choices: [
      {
        index: 0,
        message: { role: "assistant", ...message },
        finish_reason: finish,
        stop_reason: stopReason,
      },
    ],
    usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
  });

  it("renders text, usage and stop reasons", () => {
    expect(chatToMessage(chat({ content: "Hi" }, "stop"))).toEqual({
      id: "msg_abc123",
      type: "message",
      role: "assistant",
      model: "qwen",
      content: [{ type: "text", text: "Hi", citations: null }],
      stop_reason: "end_turn",
      stop_sequence: null,
      stop_details: null,
      usage: {
        input_tokens: 12,
        output_tokens: 7,
        cache_creation_input_tokens: null,
        cache_read_input_tokens: null,
        cache_creation: null,
        server_tool_use: null,
        service_tier: "batch",
        inference_geo: null,
        output_tokens_details: null,
        speed: null,
      },
      container: null,
      diagnostics: null,
    });
    expect(chatToMessage(chat({ content: "Hi" }, "length")).stop_reason).toBe("max_tokens");
    expect(chatToMessage(chat({ content: "Hi" }, "stop", "###"))).toMatchObject({
      stop_reason: "stop_sequence",
      stop_sequence: "###",
    });
    // An EOS token id is not a stop sequence.
    expect(chatToMessage(chat({ content: "Hi" }, "stop", 151645)).stop_reason).toBe("end_turn");
  });

  it("renders reasoning as a thinking block, under vLLM's current name and its older one", () => {
    for (const name of ["reasoning", "reasoning_content"]) {
      expect(chatToMessage(chat({ content: "Hi", [name]: "Let me see." }, "stop")).content).toEqual([
        { type: "thinking", thinking: "Let me see.", signature: "" },
        { type: "text", text: "Hi", citations: null },
      ]);
    }
  });

  it("renders tool calls as tool_use blocks", () => {
    const m = chatToMessage(
      chat(
        {
          content: null,
          tool_calls: [
            {
              id: "call_1",
              type: "function",
              function: { name: "get_weather", arguments: '{"city":"Paris"}' },
            },
            { id: "call_2", type: "function", function: { name: "broken", arguments: "{not json" } },
          ],
        },
        "tool_calls",
      ),
    );
    expect(m.stop_reason).toBe("tool_use");
    expect(m.content).toEqual([
      {
        type: "tool_use",
        id: "call_1",
        name: "get_weather",
        input: { city: "Paris" },
        caller: { type: "direct" },
      },
      {
        type: "tool_use",
        id: "call_2",
        name: "broken",
        input: { arguments: "{not json" },
        caller: { type: "direct" },
      },
    ]);
  });

  it("maps output and error lines to succeeded, errored, expired and canceled", () => {
    const ok = {
      custom_id: "a",
      response: { status_code: 200, request_id: "r", body: chat({ content: "x" }, "stop") },
      error: null,
    };
    expect(resultFor(ok)).toMatchObject({
      custom_id: "a",
      result: { type: "succeeded", message: { type: "message" } },
    });
    const http400 = {
      custom_id: "b",
      response: {
        status_code: 400,
        request_id: "r",
        body: { error: { message: "too long", type: "BadRequestError" } },
      },
      error: null,
    };
    expect(resultFor(http400)).toEqual({
      custom_id: "b",
      result: {
        type: "errored",
        error: {
          type: "error",
          error: { type: "invalid_request_error", message: "too long" },
          request_id: null,
        },
      },
    });
    const flat500 = {
      custom_id: "c",
      response: { status_code: 500, request_id: "r", body: { object: "error", message: "boom" } },
      error: null,
    };
    expect(resultFor(flat500)).toMatchObject({
      result: { error: { error: { type: "api_error", message: "boom" } } },
    });
    const lost = {
      custom_id: "d",
      response: null,
      error: { code: "connection_error", message: "socket hang up" },
    };
    expect(resultFor(lost)).toMatchObject({
      result: { type: "errored", error: { error: { type: "api_error", message: "socket hang up" } } },
    });
    expect(
      resultFor({ custom_id: "e", response: null, error: { code: "batch_expired", message: "x" } }),
    ).toEqual({
      custom_id: "e",
      result: { type: "expired" },
    });
    expect(
      resultFor({ custom_id: "f", response: null, error: { code: "batch_cancelled", message: "x" } }),
    ).toEqual({
      custom_id: "f",
      result: { type: "canceled" },
    });
  });
});
