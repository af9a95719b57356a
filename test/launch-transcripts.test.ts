// The launch code against what the real tools print (test/fixtures/transcripts, each naming its
// source): modal deploy's URL however Rich wrapped it, docker's failures as messages, vLLM's fatal
// lines, and which Python has the modal package.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cuda12Image, dockerFailure } from "../src/launch/docker/preflight.js";
import { findModalWebUrl } from "../src/launch/index.js";
import { fatalLine, fatalReason } from "../src/launch/log-lines.js";
import { modalPython } from "../src/launch/modal/lookup.js";
import { parseVllmLoad } from "../src/schedule/prometheus.js";
import { startSim } from "../src/sim/index.js";
import { tempDir } from "./helpers/files.js";
import { transcript } from "./helpers/stand-ins.js";

const TRANSCRIPTS = join(import.meta.dirname, "fixtures", "transcripts");

describe("transcripts", () => {
  it("each names its source on its first line: a repository file at a commit, or a page", () => {
    const files = readdirSync(TRANSCRIPTS).filter((f) => f.endsWith(".txt"));
    expect(files.length).toBeGreaterThanOrEqual(17);
    for (const f of files) {
      const first = readFileSync(join(TRANSCRIPTS, f), "utf8").split("\n")[0] ?? "";
      expect(first, f).toMatch(/^# source: (https:\/\/\S+|[\w.-]+\/[\w.-]+@[0-9a-f]{40} \S+)/);
    }
  });
});

describe("vLLM's error bodies", () => {
  it("the simulator answers an unknown model with vLLM's own body, in both shapes", async () => {
    for (const [name, format, model] of [
      ["vllm-error-404", "new", "gpt-4o"],
      ["vllm-error-404-old", "old", "Qwen1.5-14B-Chat-GPTQ-Int8"],
    ] as const) {
      const s = await startSim({ errorFormat: format, prefillMs: 0, stepMs: 0 });
      try {
        const res = await fetch(`${s.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
        });
        expect(res.status).toBe(404);
        expect(await res.text()).toBe(transcript(name).trimEnd());
      } finally {
        await s.close();
      }
    }
  });
});

describe("vLLM's /metrics", () => {
  it("reads running and waiting from a real page, and sums a data-parallel server's engines", () => {
    expect(parseVllmLoad(transcript("vllm-metrics-single"))).toEqual({
      running: 0,
      waiting: 0,
      kvCacheUsage: 0,
    });
    // Two engines behind one URL: the scheduler steers by what the whole server holds.
    const dp = parseVllmLoad(transcript("vllm-metrics-dp2"));
    expect(dp).toMatchObject({ running: 506, waiting: 12 });
    expect(dp?.kvCacheUsage).toBeCloseTo(0.66, 6);
  });
});

describe("the web URL in modal deploy output", () => {
  it("is read from every real shape of it", () => {
    const split = "https://acme-research--vbatch-nightly-ticket-classifier-run-7-se-3f9c2a.modal.run";
    expect(findModalWebUrl(transcript("modal-deploy-unwrapped"))).toBe(split);
    // Rich at 80 columns: the URL on the line after `=>`, folded mid-word when longer than a line.
    expect(findModalWebUrl(transcript("modal-deploy-wrapped-split"))).toBe(split);
    expect(findModalWebUrl(transcript("modal-deploy-wrapped"))).toBe(
      "https://phuocvodn98--inference-server-internvl3-serve.modal.run",
    );
    // Only the dashboard link: not a URL the app answers on.
    expect(findModalWebUrl(transcript("modal-deploy-view-only"))).toBeUndefined();
  });

  it("survives colour codes, CRLF and a split without Rich's indent", () => {
    const colour = `└── 🔨 Created web function serve => \u001b[35;4mhttps://ws--app-serve.modal.run\u001b[0m 🔑\r\n`;
    expect(findModalWebUrl(colour)).toBe("https://ws--app-serve.modal.run");
    const bare = [
      "└── 🔨 Created web function serve =>",
      "https://andrew-qian64--vllm-lora-customer-support-classify-suppo-6a9926.moda",
      "l.run (label truncated)",
      "✓ App deployed in 2.914s! 🎉",
    ].join("\n");
    expect(findModalWebUrl(bare)).toBe(
      "https://andrew-qian64--vllm-lora-customer-support-classify-suppo-6a9926.modal.run",
    );
  });

  it("prefers the serve function over other `=>` lines, and ignores what is not a URL", () => {
    const two = [
      "├── 🔨 Created web function other => https://ws--app-other.modal.run",
      "└── 🔨 Created web function serve => https://ws--app-serve.modal.run",
    ].join("\n");
    expect(findModalWebUrl(two)).toBe("https://ws--app-serve.modal.run");
    expect(
      findModalWebUrl("└── 🔨 Created web function serve => \n✓ App deployed in 1s! 🎉"),
    ).toBeUndefined();
  });
});

describe("docker's failures", () => {
  const image = "vllm/vllm-openai:v0.32.0";

  it("each real one becomes a message that says what to do", () => {
    const noDriver = dockerFailure("docker run for e0", transcript("docker-run-no-driver"), undefined, image);
    expect(noDriver.message).toBe(
      "the Docker daemon on this machine cannot give containers GPUs (no NVIDIA Container Toolkit)",
    );
    const old = dockerFailure("docker run for e0", transcript("docker-run-cuda-too-old"), "ssh://gpu", image);
    expect(old.message).toBe(
      "docker run for e0: the image needs CUDA 12.8 or newer, which the NVIDIA driver at ssh://gpu is too old for",
    );
    expect(old.details).toContain(
      "use the CUDA 12.9 build of the same vLLM: --image vllm/vllm-openai:v0.32.0-cu129 (works with CUDA 12 drivers)",
    );
    const conflict = transcript("docker-run-name-conflict")
      .replace("{name}", "vbatch-j-0")
      .replace("{id}", "0123");
    expect(dockerFailure("docker run for vbatch-j-0", conflict, undefined).message).toBe(
      "docker run for vbatch-j-0: a container named vbatch-j-0 already exists",
    );
    expect(dockerFailure("docker info", transcript("docker-no-daemon"), undefined).message).toBe(
      "no Docker daemon is reachable on this machine",
    );
    expect(dockerFailure("docker info", transcript("docker-permission-denied"), undefined).message).toBe(
      "not allowed to use the Docker daemon on this machine",
    );
  });

  it("names the -cu129 variant only for a plain release tag", () => {
    expect(cuda12Image("vllm/vllm-openai:v0.32.0")).toBe("vllm/vllm-openai:v0.32.0-cu129");
    expect(cuda12Image("vllm/vllm-openai:latest")).toBeUndefined();
    expect(cuda12Image("vllm/vllm-openai:v0.30.0-cu129")).toBeUndefined();
  });
});

describe("vLLM's fatal lines", () => {
  it("stop a start on the exception line, not on the source line printed above it", () => {
    const lines = transcript("vllm-fatal-engine-core").trimEnd().split("\n");
    expect(lines.filter(fatalLine)).toEqual([lines.at(-1)]);
    expect(fatalReason(lines.at(-1) ?? "")).toBe(
      "RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}",
    );
    const oom = transcript("vllm-fatal-oom").trimEnd().split("\n");
    expect(oom.filter(fatalLine)).toEqual([oom.at(-1)]);
    expect(transcript("vllm-startup").split("\n").filter(fatalLine)).toEqual([]);
  });
});

describe("the Python that has the modal package", () => {
  const root = tempDir("vbatch-modal-python-");
  let n = 0;
  function withModal(script: string): NodeJS.ProcessEnv {
    const dir = join(root, `b${++n}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "modal"), script, { mode: 0o755 });
    return { PATH: dir };
  }

  it("is the one in the modal script's shebang, else python3", () => {
    expect(modalPython(withModal("#!/home/u/.local/share/uv/tools/modal/bin/python3\nimport sys\n"))).toBe(
      "/home/u/.local/share/uv/tools/modal/bin/python3",
    );
    expect(modalPython(withModal("#!/usr/bin/env python3.12\n"))).toBe("python3.12");
    // pip's launcher when the interpreter's path is too long for a shebang.
    const long = `#!/bin/sh\n'''exec' "/very/long/venv/bin/python" "$0" "$@"\n' '''\n`;
    expect(modalPython(withModal(long))).toBe("/very/long/venv/bin/python");
    expect(modalPython(withModal("#!/usr/bin/env node\n"))).toBe("python3");
    expect(modalPython({ PATH: join(root, "nowhere") })).toBe("python3");
  });
});
