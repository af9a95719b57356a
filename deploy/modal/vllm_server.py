# vLLM's OpenAI-compatible server as a Modal app, for `vbatch run --launch modal` (which runs
# `modal deploy` on this file) or by hand (`modal deploy deploy/modal/vllm_server.py`).
# Everything that changes between jobs comes from environment variables read at deploy time,
# so one file serves any model; see README.md beside it for the knobs and what they cost.
#
# Shape (after modal-labs/modal-examples, 06_gpu_and_ml/llm-serving): a GPU function that starts
# `vllm serve` in a subprocess, exposed with @modal.web_server; @modal.concurrent lets one
# replica take many requests at once (vLLM's continuous batching needs that); Modal autoscales
# replicas behind the one URL up to VBATCH_MAX_CONTAINERS. Weights and vLLM's compile cache live
# on Volumes so only the first cold start downloads and compiles.

import json
import os
import shlex
import subprocess

import modal

MINUTES = 60  # seconds
VLLM_PORT = 8000


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        parsed = int(value)
    except ValueError:
        raise SystemExit(f"{name} must be an integer (got {value!r})")
    if parsed < 1:
        raise SystemExit(f"{name} must be >= 1 (got {parsed})")
    return parsed


# --- configuration (read when `modal deploy` imports this file) --------------------------------
APP_NAME = os.environ.get("VBATCH_APP_NAME", "vbatch-vllm")
MODEL = os.environ.get("VBATCH_MODEL", "Qwen/Qwen3-8B")
MODEL_REVISION = os.environ.get("VBATCH_MODEL_REVISION", "")  # pin a commit for reproducible runs
GPU_TYPE = os.environ.get("VBATCH_GPU", "H100")
GPU_COUNT = _env_int("VBATCH_GPU_COUNT", 1)  # = vLLM's --tensor-parallel-size
MAX_CONTAINERS = _env_int("VBATCH_MAX_CONTAINERS", 4)
SCALEDOWN_SECONDS = _env_int("VBATCH_SCALEDOWN_SECONDS", 5 * MINUTES)
MAX_NUM_SEQS = _env_int("VBATCH_MAX_NUM_SEQS", 256)
# Requests one replica accepts at once; beyond that Modal queues them and adds replicas.
MAX_INPUTS = _env_int("VBATCH_MAX_INPUTS", MAX_NUM_SEQS)
STARTUP_SECONDS = _env_int("VBATCH_STARTUP_SECONDS", 20 * MINUTES)
# Same release as vbatch's Docker default (src/launch/options.ts, where the evidence is cited).
VLLM_VERSION = os.environ.get("VBATCH_VLLM_VERSION", "0.32.0")
FAST_BOOT = os.environ.get("VBATCH_FAST_BOOT", "1") != "0"  # --enforce-eager: faster cold starts
try:
    EXTRA_ARGS = json.loads(os.environ.get("VBATCH_VLLM_ARGS", "[]"))
except json.JSONDecodeError:
    raise SystemExit("VBATCH_VLLM_ARGS must be a JSON array of strings")
if not isinstance(EXTRA_ARGS, list) or not all(isinstance(a, str) for a in EXTRA_ARGS):
    raise SystemExit("VBATCH_VLLM_ARGS must be a JSON array of strings")

# --- image, caches, secrets --------------------------------------------------------------------
# vLLM's default wheels are CUDA 13 builds since v0.20 (Modal's hosts run driver 580+), so the
# toolkit its kernels JIT-compile against is CUDA 13 too. hf_transfer is gone from huggingface_hub:
# downloads go through hf-xet, and HF_XET_HIGH_PERFORMANCE replaces HF_HUB_ENABLE_HF_TRANSFER.
vllm_image = (
    modal.Image.from_registry("nvidia/cuda:13.0.2-devel-ubuntu22.04", add_python="3.12")
    .entrypoint([])
    .uv_pip_install(f"vllm=={VLLM_VERSION}")
    .env({"HF_XET_HIGH_PERFORMANCE": "1", "VLLM_LOG_STATS_INTERVAL": "10"})
)

hf_cache = modal.Volume.from_name("vbatch-huggingface-cache", create_if_missing=True)
vllm_cache = modal.Volume.from_name("vbatch-vllm-cache", create_if_missing=True)

# A gated model needs a token: a named Modal Secret if given, else HF_TOKEN from the deploying shell.
secrets = []
if os.environ.get("VBATCH_HF_SECRET"):
    secrets.append(modal.Secret.from_name(os.environ["VBATCH_HF_SECRET"]))
elif os.environ.get("HF_TOKEN"):
    secrets.append(modal.Secret.from_dict({"HF_TOKEN": os.environ["HF_TOKEN"]}))

app = modal.App(APP_NAME)


@app.function(
    image=vllm_image,
    gpu=f"{GPU_TYPE}:{GPU_COUNT}",
    max_containers=MAX_CONTAINERS,
    scaledown_window=SCALEDOWN_SECONDS,  # idle time before a replica is stopped (and billing ends)
    # Longest a container start or a single request may take (a request past 150 s is answered
    # through Modal's 303 result URL and still counts against this).
    timeout=max(STARTUP_SECONDS, 60 * MINUTES),
    volumes={"/root/.cache/huggingface": hf_cache, "/root/.cache/vllm": vllm_cache},
    secrets=secrets,
)
@modal.concurrent(max_inputs=MAX_INPUTS)
@modal.web_server(port=VLLM_PORT, startup_timeout=STARTUP_SECONDS)
def serve() -> None:
    cmd = ["vllm", "serve", MODEL, "--host", "0.0.0.0", "--port", str(VLLM_PORT)]
    if MODEL_REVISION:
        cmd += ["--revision", MODEL_REVISION]
    cmd += ["--served-model-name", MODEL]
    cmd += ["--tensor-parallel-size", str(GPU_COUNT)]
    cmd += ["--max-num-seqs", str(MAX_NUM_SEQS)]
    cmd += ["--enforce-eager" if FAST_BOOT else "--no-enforce-eager"]
    cmd += EXTRA_ARGS
    print("starting:", shlex.join(cmd), flush=True)
    # web_server waits until the port answers, then routes requests to it.
    subprocess.Popen(cmd)
