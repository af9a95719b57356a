// Checks, before any container starts, that there is a Docker daemon to talk to and that we may use
// it, and turns the docker CLI's own failures into messages that say what to do. Whether GPUs reach
// containers is not guessed from `docker info`: `--gpus` works through the NVIDIA runtime, its hook
// alone, or CDI (moby daemon/devices_nvidia_linux.go), so `docker run` itself tells, mapped below.
import { execa } from "execa";
import { VbatchError } from "../../errors.js";

function where(dockerHost: string | undefined): string {
  return dockerHost ? `at ${dockerHost}` : "on this machine";
}

/** The image's CUDA-12 variant (`…:v0.32.0` → `…:v0.32.0-cu129`), when the tag is a plain release. */
export function cuda12Image(image: string | undefined): string | undefined {
  const m = /^(.+):(v\d+\.\d+\.\d+(?:\.post\d+)?)$/.exec(image ?? "");
  return m ? `${m[1]}:${m[2]}-cu129` : undefined;
}

/** A VbatchError for a failed docker command, recognising the common causes. */
export function dockerFailure(
  what: string,
  stderr: string,
  dockerHost: string | undefined,
  image?: string,
): VbatchError {
  const text = stderr.trim();
  const last = [...new Set(text.split("\n").filter((l) => l.trim() !== ""))];
  if (/Cannot connect to the Docker daemon|error during connect|Is the docker daemon running/i.test(text)) {
    return new VbatchError("engine_unavailable", `no Docker daemon is reachable ${where(dockerHost)}`, {
      details: [
        ...last.slice(-2),
        "start it (sudo systemctl start docker), or point --docker-host / DOCKER_HOST at a GPU host, e.g. ssh://user@gpu-box",
      ],
    });
  }
  if (/permission denied.*(docker\.sock|docker API)/i.test(text)) {
    return new VbatchError(
      "engine_unavailable",
      `not allowed to use the Docker daemon ${where(dockerHost)}`,
      {
        details: [
          ...last.slice(-1),
          "add yourself to the docker group: sudo usermod -aG docker $USER, then log in again",
        ],
      },
    );
  }
  // nvidia-container-cli refuses an image built for a newer CUDA than the host's driver supports.
  const cuda = /unsatisfied condition: cuda\s*>=\s*([\d.]+)/i.exec(text)?.[1];
  if (cuda) {
    const cu129 = cuda12Image(image);
    return new VbatchError(
      "engine_unavailable",
      `${what}: the image needs CUDA ${cuda} or newer, which the NVIDIA driver ${where(dockerHost)} is too old for`,
      {
        details: [
          ...last.slice(-1),
          cu129
            ? `use the CUDA 12.9 build of the same vLLM: --image ${cu129} (works with CUDA 12 drivers)`
            : "use an image built for CUDA 12 (vllm/vllm-openai tags ending in -cu129)",
          "or update the GPU driver (580 or newer runs the default CUDA 13 images); nvidia-smi shows the CUDA version the driver supports",
        ],
      },
    );
  }
  if (
    /could not select device driver|nvidia-container-cli|unknown or invalid runtime name: nvidia/i.test(text)
  ) {
    return noGpus(dockerHost, last.slice(-1));
  }
  if (/Conflict\. The container name/i.test(text)) {
    const name = /"\/?([^"]+)"/.exec(text)?.[1] ?? "the container";
    return new VbatchError("engine_unavailable", `${what}: a container named ${name} already exists`, {
      details: [
        `it may be left from an earlier --keep or vbatch up: docker rm -f ${name}, or give vbatch up another --name`,
      ],
    });
  }
  return new VbatchError("engine_unavailable", `${what} failed`, { details: last.slice(-10) });
}

function noGpus(dockerHost: string | undefined, lines: string[]): VbatchError {
  return new VbatchError(
    "engine_unavailable",
    `the Docker daemon ${where(dockerHost)} cannot give containers GPUs (no NVIDIA Container Toolkit)`,
    {
      details: [
        ...lines,
        "install the NVIDIA Container Toolkit on the GPU host and restart Docker; Docker 29.2+ also serves --gpus through CDI (sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml), older ones through the runtime (sudo nvidia-ctk runtime configure --runtime=docker)",
        "or use --launch process (vllm on this machine) or --launch modal",
      ],
    },
  );
}

/** `docker info`: the daemon answers and we may use it. The runtimes it lists go to the debug log. */
export async function checkDocker(
  env: NodeJS.ProcessEnv,
  dockerHost: string | undefined,
  log?: (runtimes: string[]) => void,
): Promise<void> {
  const r = await execa("docker", ["info", "--format", "{{json .Runtimes}}"], {
    env,
    extendEnv: false,
    reject: false,
    stdin: "ignore",
    timeout: 60_000,
  });
  // Not stdout: with --format, docker info still runs the template over empty server info and
  // prints "null" there (docker/cli cli/command/system/info.go, runInfo).
  if (r.exitCode !== 0) throw dockerFailure("docker info", r.stderr || r.stdout, dockerHost);
  let runtimes: unknown;
  try {
    runtimes = JSON.parse(r.stdout.trim());
  } catch {
    runtimes = undefined;
  }
  log?.(typeof runtimes === "object" && runtimes !== null ? Object.keys(runtimes) : []);
}
